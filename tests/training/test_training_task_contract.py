"""The Task contract: a model that owns its loss, and the optional capabilities' errors."""

import dataclasses
import os

import keras
import numpy as np
import pytest
from training_toy_task import ToyConfig, ToyTask, tiny_convnet

from hrnet_keras.errors import UsageError
from hrnet_keras.training import (
    ModelConfig,
    OptimizerConfig,
    Recipe,
    RuntimeConfig,
    Task,
    TaskCapabilityError,
    train,
)


@pytest.fixture(autouse=True)
def _no_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)


class SelfScoringModel(keras.Model):
    """The tiny conv net, scoring itself: twice the cross-entropy plus its own losses.

    Twice, so that a trainer that compiled a loss of its own instead would report another
    number.
    """

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.net = tiny_convnet(size, 0.9, False)

    def call(self, images, training=False):
        return self.net(images, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return 2.0 * cross_entropy(y, y_pred) + sum(self.losses)


def cross_entropy(labels, logits):
    return keras.ops.mean(
        keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    )


class SelfScoringTask(ToyTask):
    def build_model(self):
        return SelfScoringModel(self.config.image_size)

    def build_loss(self):
        return None


class LosslessTask(ToyTask):
    """Says its model owns the loss, but the model is a plain functional one."""

    def build_loss(self):
        return None


@dataclasses.dataclass
class SelfScoringConfig(ToyConfig):
    task_class: type = SelfScoringTask

    def build_task(self, recipe):
        return self.task_class(recipe)


def _recipe(task_class, learning_rate=0.0):
    return Recipe(
        task=SelfScoringConfig(task_class=task_class),
        model=ModelConfig(builder="tiny"),
        optimizer=OptimizerConfig(
            name="sgd", learning_rate=learning_rate, weight_decay=0.0, schedule="constant"
        ),
        runtime=RuntimeConfig(
            global_batch_size=4, epochs=1, steps_per_epoch=3, distribution="one_device"
        ),
    )


def test_a_model_that_owns_its_loss_trains_without_a_compiled_one(tmp_path):
    recipe = _recipe(SelfScoringTask)
    run = train(recipe, "unused", tmp_path, verbose=0)
    assert run.model.loss is None
    # The learning rate is 0: the weights the three steps saw are the final ones (batch
    # statistics in training mode, so the moving averages do not matter).
    batches = run.task.build_dataset("unused", training=True, batch_size=4).take(3)
    expected = np.mean(
        [float(2.0 * cross_entropy(y, run.model(x, training=True))) for x, y in batches]
    )
    np.testing.assert_allclose(run.history["loss"][0], expected, rtol=1e-5)


def test_a_model_that_owns_its_loss_also_learns(tmp_path):
    recipe = _recipe(SelfScoringTask, learning_rate=0.05)
    recipe.runtime.epochs, recipe.runtime.steps_per_epoch = 3, 4
    run = train(recipe, "unused", tmp_path, verbose=0)
    assert run.history["loss"][-1] < run.history["loss"][0]


def test_no_loss_and_no_compute_loss_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"LosslessTask\.build_loss returned None.*compute_loss"):
        train(_recipe(LosslessTask), "unused", tmp_path, verbose=0)
    assert not os.path.exists(tmp_path / "checkpoints")


class MinimalTask(Task):
    """Only what is required: no predict, no calibration data, the model served as it is."""

    def build_model(self):
        return tiny_convnet(32, 0.9, False)

    def build_dataset(self, data_dir, *, training, batch_size, input_context=None):
        raise NotImplementedError

    def build_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def evaluate(self, model, data_dir):
        return {}


def test_required_methods_are_abstract():
    class Incomplete(Task):
        def build_model(self):
            return None

    with pytest.raises(TypeError, match="build_dataset"):
        Incomplete(None)


def test_missing_capabilities_name_the_task_and_the_capability():
    task = MinimalTask(None)
    assert not task.supports("predict") and not task.supports("calibration_data")
    assert task.build_metrics() == [] and task.num_train_examples("d") is None
    assert task.float_layers == ()
    with pytest.raises(TaskCapabilityError, match=r"MinimalTask has no int8 calibration data"):
        task.calibration_data("data", 10)
    with pytest.raises(TaskCapabilityError, match=r"MinimalTask has no prediction on image"):
        task.predict(None, ["a.png"], "out")
    with pytest.raises(TaskCapabilityError, match=r"capability='predict'"):
        task.check_predict_options()
    model = task.build_model()
    assert task.serving_model(model) is model
    with pytest.raises(TaskCapabilityError, match=r"MinimalTask.serving_model takes no option"):
        task.serving_model(model, heatmaps=True)
    with pytest.raises(ValueError, match="Optional task capabilities"):
        task.supports("fly")
    assert issubclass(TaskCapabilityError, UsageError)


def test_the_library_tasks_declare_their_capabilities():
    from hrnet_keras.landmarks import LandmarkConfig
    from hrnet_keras.landmarks.task import LandmarkTask
    from hrnet_keras.segmentation import SegmentationConfig, SegmentationTask

    assert LandmarkTask.supports("calibration_data") and LandmarkTask.supports("predict")
    assert SegmentationTask.supports("predict")
    assert not SegmentationTask.supports("calibration_data")
    segmentation = SegmentationTask(Recipe(SegmentationConfig(num_classes=3)))
    with pytest.raises(TaskCapabilityError, match="SegmentationTask has no int8"):
        segmentation.calibration_data("data")
    with pytest.raises(TaskCapabilityError, match=r"SegmentationTask\.predict takes no option box"):
        segmentation.check_predict_options(box=(1, 2, 3, 4))
    landmarks = LandmarkTask(Recipe(LandmarkConfig("300w")))
    with pytest.raises(UsageError, match="needs a face box"):
        landmarks.check_predict_options()
    with pytest.raises(UsageError, match="positive width"):
        landmarks.check_predict_options(box="1,2,0,4")
    landmarks.check_predict_options(box="1,2,3,4")
