"""The Cascade R-CNN recipes (mmdetection's `cascade_rcnn_hrnetv2p_w*_20e`) and the detection
task with a Cascade R-CNN: a training step, evaluation, pictures and the served SavedModel."""

import dataclasses
import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf
from task_contract import check_task_contract

from hrnet_keras.detection import CascadeRCNN
from hrnet_keras.detection.recipes import coco_faster_rcnn_recipe
from hrnet_keras.detection.task import BOX_METRICS
from hrnet_keras.training import Recipe, apply_overrides, load_recipe
from hrnet_keras.training.optimizers import build_optimizer

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"
CASCADE_RECIPES = sorted(RECIPES.glob("coco_cascade_rcnn_*.py"))
TINY = RECIPES / "coco_samples_tiny_faster_rcnn.py"
# The tiny recipe's detector, smaller still, as a Cascade R-CNN.
SMALL = [
    "model.builder=cascade_rcnn",
    "task.min_size=64",
    "task.max_size=96",
    "task.pad_shape=(64, 96)",
    "task.channels=16",
    "task.rpn_channels=16",
    "task.fc_channels=32",
    "task.max_proposals=50",
    "task.rcnn_num_samples=32",
]


def test_the_recipes_are_mmdetections_20e_schedule():
    assert [p.name for p in CASCADE_RECIPES] == [
        f"coco_cascade_rcnn_hrnetv2p_w{w}_20e.py" for w in (18, 32, 40)
    ]
    for width, path in zip((18, 32, 40), CASCADE_RECIPES):
        recipe = load_recipe(path)
        assert Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe
        assert (recipe.model.builder, recipe.model.width) == ("cascade_rcnn", width)
        assert recipe.runtime.epochs == 20 and recipe.optimizer.boundaries == (16, 19)
        optimizer = recipe.optimizer
        assert (optimizer.name, optimizer.learning_rate, optimizer.momentum) == ("sgd", 0.02, 0.9)
        assert (optimizer.weight_decay, optimizer.global_clipnorm) == (1e-4, 35.0)
        assert (optimizer.warmup_steps, optimizer.warmup_start) == (500, pytest.approx(1 / 3))
        assert recipe.runtime.global_batch_size == 16
        assert recipe.model.backbone_weights == f"hrnetv2_w{width}_imagenet.keras"
        # Everything else is the Faster R-CNN recipe's (data, sizes, optimizer).
        faster = coco_faster_rcnn_recipe(width)
        assert recipe.task == faster.task
        assert dataclasses.replace(recipe.model, builder="faster_rcnn") == faster.model
        assert dataclasses.replace(optimizer, boundaries=(8, 11)) == faster.optimizer
    with pytest.raises(ValueError, match="Received: schedule='3x'"):
        coco_faster_rcnn_recipe(18, schedule="3x")


@pytest.mark.heavy
def test_a_recipe_model_trains_one_step():
    """The W18 recipe's detector and optimizer at W18-small-v1 on a 128 x 128 canvas: one
    step, finite losses, a gradient for every trainable variable."""
    keras.utils.set_random_seed(0)
    recipe = apply_overrides(
        load_recipe(CASCADE_RECIPES[0]),
        [
            "model.width=18-small-v1",
            "model.backbone_weights=None",
            "task.min_size=128",
            "task.max_size=128",
            "task.pad_shape=(128, 128)",
        ],
    )
    model = recipe.build_task().build_model()
    assert isinstance(model, CascadeRCNN) and model.rcnn_num_samples == 512
    optimizer = build_optimizer(recipe.optimizer, total_steps=100, steps_per_epoch=10, model=model)
    rng = np.random.default_rng(0)
    inputs = {
        "images": rng.normal(size=(1, 128, 128, 3)).astype("float32"),
        "image_shape": np.array([[128, 128]], "int32"),
    }
    boxes = np.zeros((1, 4, 4), "float32")
    boxes[0, :2] = [[10, 12, 70, 90], [60, 30, 120, 100]]
    targets = {"boxes": boxes, "labels": np.array([[0, 79, -1, -1]], "int32")}
    variables = model.trainable_variables
    missing = []

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = model.compute_loss(inputs, targets, model(inputs, training=True))
        gradients = tape.gradient(loss, variables)
        missing.extend(v.path for v, g in zip(variables, gradients) if g is None)
        optimizer.apply(gradients, variables)
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in gradients])
        return loss, finite, [t.result() for t in model.loss_trackers]

    loss, finite, losses = step()
    assert not missing, missing
    assert np.isfinite(float(loss)) and bool(finite)
    assert len(losses) == 8 and all(np.isfinite(float(v)) for v in losses)


@pytest.mark.heavy
def test_the_task_trains_evaluates_draws_and_exports_a_cascade(shared_data, tmp_path):
    persons = shared_data / "coco_persons"
    recipe = apply_overrides(load_recipe(TINY), SMALL)
    task, model, metrics = check_task_contract(recipe, persons, tmp_path)
    assert isinstance(model, CascadeRCNN)
    assert list(metrics) == list(BOX_METRICS)
    photo = sorted(persons.glob("*.jpg"))[0]
    written = task.predict(model, [str(photo)], str(tmp_path / "pictures"), score_threshold=0.0)
    assert [pathlib.Path(p).name for p in written] == [photo.name]
    with pytest.raises(ValueError, match="Received: builder='hrnetv2'"):
        apply_overrides(recipe, ["model.builder=hrnetv2"]).build_task().build_model()
