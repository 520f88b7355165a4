"""Fine-tuning from a "pretrained" classifier of random weights: every layer but the head
loads (a log line says so), and the frozen epochs leave the backbone untouched."""

import keras
import numpy as np
import pytest

from hrnet_keras.classification import ClassificationConfig
from hrnet_keras.classification.finetune import HEAD
from hrnet_keras.models import hrnet_classifier
from hrnet_keras.models.presets import CLASSIFICATION
from hrnet_keras.training import OptimizerConfig, Recipe, RuntimeConfig, train

WIDTH = "18-small-v1"


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A 7-class W18-small-v1 of random weights (BN statistics too), as .keras and .weights.h5."""
    keras.utils.set_random_seed(5)
    model = hrnet_classifier(WIDTH, 7, input_shape=(64, 64, 3))
    rng = np.random.default_rng(5)
    for variable in model.weights:  # random BN statistics: a checkpoint, not an init
        if "moving" in variable.path or "gamma" in variable.path or "beta" in variable.path:
            variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype("float32"))
    folder = tmp_path_factory.mktemp("pretrained")
    model.save(folder / "pretrained.keras")
    model.save_weights(folder / "pretrained.weights.h5")
    return model, folder


def _weights(model, head):
    return {
        f"{layer.name}/{i}": np.array(w)
        for layer in model.layers
        if (layer.name == HEAD) == head
        for i, w in enumerate(layer.weights)
    }


def _recipe(weights, classes=("bottle", "bus", "car", "chair", "person", "sofa"), **task):
    return Recipe(
        ClassificationConfig(class_names=classes, crop_size=64, **task),
        CLASSIFICATION.model_config(width=WIDTH, weights=str(weights)),
        OptimizerConfig(name="adam", learning_rate=1e-2, weight_decay=0.0, schedule="constant"),
        RuntimeConfig(global_batch_size=4, epochs=2, steps_per_epoch=2, sync_bn=False),
    )


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_a_new_head_replaces_the_pretrained_one(pretrained, suffix, capsys):
    source, folder = pretrained
    model = _recipe(folder / f"pretrained{suffix}").build_task().build_model()
    log = capsys.readouterr().out
    assert "every layer but the head `predictions` (its 7 classes, 6 here)" in log
    loaded, expected = _weights(model, head=False), _weights(source, head=False)
    assert loaded.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)
    assert model.get_layer(HEAD).kernel.shape == (2048, 6)


def test_the_same_head_loads_whole(pretrained, capsys):
    source, folder = pretrained
    classes = tuple("abcdefg")
    model = _recipe(folder / "pretrained.weights.h5", classes).build_task().build_model()
    assert "random weights" not in capsys.readouterr().out
    np.testing.assert_array_equal(model.get_layer(HEAD).kernel, source.get_layer(HEAD).kernel)


class _EpochWeights(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((_weights(self.model, head=False), _weights(self.model, head=True)))


class _StartWeights(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.head = _weights(self.model, head=True)


def test_a_frozen_epoch_trains_the_head_alone(pretrained, crop_tree, tmp_path, capsys):
    source, folder = pretrained
    recipe = _recipe(folder / "pretrained.keras", freeze_backbone_epochs=1)
    recipe.runtime.epochs, recipe.runtime.steps_per_epoch = 1, 1
    start = _StartWeights()
    run = train(recipe, crop_tree, tmp_path / "run", callbacks=[start], verbose=0)
    assert "Training only predictions" in capsys.readouterr().out
    trained = _weights(run.model, head=False)
    for name, value in _weights(source, head=False).items():  # BN statistics too
        np.testing.assert_array_equal(trained[name], value, err_msg=name)
    head = _weights(run.model, head=True)
    assert head[f"{HEAD}/0"].shape == (2048, 6)
    assert not np.array_equal(head[f"{HEAD}/0"], start.head[f"{HEAD}/0"])


@pytest.mark.heavy
def test_frozen_epochs_train_the_head_alone(pretrained, crop_tree, tmp_path, capsys):
    source, folder = pretrained
    recipe = _recipe(folder / "pretrained.keras", freeze_backbone_epochs=1)
    epochs = _EpochWeights()
    run = train(recipe, crop_tree, tmp_path / "run", callbacks=[epochs], verbose=0)
    out = capsys.readouterr().out
    assert "Training only predictions" in out and "Unfroze" in out
    (frozen, frozen_head), (thawed, thawed_head) = epochs.seen
    start = _weights(source, head=False)
    for name, value in start.items():  # kernels, BN scales and moving statistics alike
        np.testing.assert_array_equal(frozen[name], value, err_msg=name)
    moved = [name for name in start if not np.array_equal(thawed[name], start[name])]
    assert len(moved) > 0.9 * len(start)
    assert not np.array_equal(frozen_head[f"{HEAD}/0"], thawed_head[f"{HEAD}/0"])
    assert all(layer.trainable for layer in run.model.layers)
    assert (tmp_path / "run" / "classes.json").read_text().count('"') == 12
