"""Cascade Mask R-CNN in the detection task: its 20e recipes, the served graph (masks pasted or
28x28), SavedModels of it and of a plain Cascade R-CNN answering in a TensorFlow-only process,
and the task's training step, mask AP and pictures on real photos."""

import dataclasses
import gc
import io
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from detection_helpers import tiny_pyramid
from PIL import Image

from hrnet_keras.detection import (
    CascadeMaskRCNN,
    CascadeRCNN,
    DetectionConfig,
    DetectionTask,
    paste_masks,
)
from hrnet_keras.detection.drawing import draw_detections
from hrnet_keras.detection.pipeline import resize_image, to_canvas
from hrnet_keras.detection.recipes import coco_cascade_rcnn_recipe
from hrnet_keras.detection.serving import detection_serving_model
from hrnet_keras.detection.task import BOX_METRICS, MASK_METRICS
from hrnet_keras.export import export_savedmodel
from hrnet_keras.training import ModelConfig, Recipe, apply_overrides, load_recipe

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"
COCO_RECIPES = sorted(RECIPES.glob("coco_cascade_mask_rcnn_*.py"))
TINY = RECIPES / "coco_samples_tiny_mask_rcnn.py"
SMALL = [
    "model.builder=cascade_mask_rcnn",
    "task.min_size=64",
    "task.max_size=96",
    "task.pad_shape=(64, 96)",
    "task.channels=16",
    "task.rpn_channels=16",
    "task.fc_channels=32",
    "task.mask_channels=8",
    "task.max_proposals=50",
    "task.rcnn_num_samples=32",
]
CONFIG = DetectionConfig(class_names=("a", "b", "c"), min_size=64, max_size=96)
TINY_HEADS = {
    "fc_channels": 32,
    "test_pre_nms_top_k": 300,
    "max_proposals": 100,
    "max_detections": 10,
    "score_threshold": 0.0,
}


@pytest.fixture(scope="module")
def served():
    keras.utils.set_random_seed(0)
    return CascadeMaskRCNN(tiny_pyramid(), 3, mask_channels=8, **TINY_HEADS)


def test_the_recipes_are_the_cascade_recipes_with_masks():
    assert [p.name for p in COCO_RECIPES] == [
        f"coco_cascade_mask_rcnn_hrnetv2p_w{w}_20e.py" for w in (18, 32, 40)
    ]
    for width, path in zip((18, 32, 40), COCO_RECIPES):
        recipe = load_recipe(path)
        assert Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe
        assert (recipe.model.builder, recipe.model.width) == ("cascade_mask_rcnn", width)
        assert recipe.runtime.epochs == 20 and recipe.optimizer.boundaries == (16, 19)
        cascade = coco_cascade_rcnn_recipe(width)
        assert recipe.task == dataclasses.replace(cascade.task, masks=True)
        assert recipe.model == dataclasses.replace(cascade.model, builder="cascade_mask_rcnn")
        assert (recipe.optimizer, recipe.runtime) == (cascade.optimizer, cascade.runtime)
    task = apply_overrides(load_recipe(COCO_RECIPES[0]), ["task.masks=False"]).build_task()
    with pytest.raises(ValueError, match="A `cascade_mask_rcnn` trains on instance masks"):
        task.build_model()


@pytest.mark.slow
def test_served_masks_are_pasted_at_the_photo_size_or_kept_28x28(served):
    image = np.random.default_rng(0).integers(0, 255, (50, 70, 3), np.uint8)
    out = detection_serving_model(served, CONFIG)(image[None])
    assert out["masks"].shape == (1, 10, 50, 70) and out["masks"].dtype == tf.uint8
    resized, size, _ = resize_image(tf.constant(image), CONFIG)
    raw = served({"images": to_canvas(resized, CONFIG)[None], "image_shape": tf.stack(size)[None]})
    count = int(out["num_detections"][0])
    assert count > 0
    want = np.asarray(paste_masks(raw["masks"][0, :count], out["boxes"][0, :count], 50, 70))
    np.testing.assert_array_equal(out["masks"][0, :count].numpy(), want)
    assert want.any()
    box_masks = detection_serving_model(served, CONFIG, paste_masks=False)(image[None])["masks"]
    np.testing.assert_allclose(box_masks.numpy(), np.asarray(raw["masks"]), atol=1e-6)
    detections = {key: value[0].numpy() for key, value in out.items()}
    picture, drawn = draw_detections(image, detections, CONFIG.class_names, score_threshold=0.0)
    without = {key: value for key, value in detections.items() if key != "masks"}
    boxes_only, _ = draw_detections(image, without, CONFIG.class_names, score_threshold=0.0)
    assert drawn == count and (np.asarray(picture) != np.asarray(boxes_only)).any()


# The child cannot import hrnet_keras: no PYTHONPATH, no path holding the package, and the
# name blocked (importing it would fail), as a TF Serving client has it.
CHILD = textwrap.dedent(
    """
    import json, os, sys
    sys.path = [p for p in sys.path if p and not os.path.isdir(os.path.join(p, "hrnet_keras"))]
    sys.modules["hrnet_keras"] = None
    import tensorflow as tf
    signatures = tf.saved_model.load(sys.argv[1]).signatures
    answers = {}
    images = tf.zeros((1, 50, 70, 3), tf.uint8)
    for name, inputs in (
        ("serving_default", images),
        ("serving_bytes", tf.constant([open(sys.argv[2], "rb").read()])),
    ):
        outputs = signatures[name](images=inputs)
        answers[name] = {key: list(value.shape) for key, value in outputs.items()}
        answers[name]["finite"] = bool(tf.reduce_all(tf.math.is_finite(outputs["boxes"])))
    print(json.dumps(answers))
    """
)


@pytest.mark.heavy
@pytest.mark.parametrize("builder", ["cascade_mask_rcnn", "cascade_rcnn"])
def test_savedmodel_answers_without_hrnet_keras(served, builder, tmp_path):
    if builder == "cascade_rcnn":
        keras.utils.set_random_seed(0)
        model = CascadeRCNN(tiny_pyramid(), 3, **TINY_HEADS)
    else:
        model = served
    task = DetectionTask(Recipe(CONFIG, ModelConfig(builder=builder, width=4)))
    path = export_savedmodel(model, tmp_path / "served", task=task)
    photo = tmp_path / "photo.png"
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 30, 3), 128, np.uint8)).save(buffer, format="PNG")
    photo.write_bytes(buffer.getvalue())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(photo)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    default, files = answers["serving_default"], answers["serving_bytes"]
    assert default["boxes"] == [1, 10, 4] and files["boxes"] == [1, 10, 4]
    assert default["finite"] and files["finite"]
    if builder == "cascade_mask_rcnn":
        assert default["masks"] == [1, 10, 50, 70] and files["masks"] == [1, 10, 40, 30]
    else:
        assert "masks" not in default and "masks" not in files


@pytest.mark.heavy
def test_the_task_trains_evaluates_draws_and_exports_a_cascade_mask_rcnn(shared_data, tmp_path):
    from task_contract import check_task_contract

    persons = shared_data / "coco_persons"
    recipe = apply_overrides(load_recipe(TINY), SMALL)
    task, model, metrics = check_task_contract(recipe, persons, tmp_path)
    assert isinstance(model, CascadeMaskRCNN) and model.mask_heads[0].conv_channels == 8
    assert list(metrics) == [*BOX_METRICS, *MASK_METRICS]
    photo = sorted(persons.glob("*.jpg"))[0]
    written = task.predict(model, [str(photo)], str(tmp_path / "pictures"), score_threshold=0.0)
    assert [pathlib.Path(p).name for p in written] == [photo.name]
    keras.backend.clear_session()
    gc.collect()
