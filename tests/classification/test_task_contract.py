"""The classification task keeps the Task contract, on a folder tree of real crops; its
SavedModel returns the class names in a process that cannot import hrnet_keras."""

import pathlib

import numpy as np
import tensorflow as tf
from PIL import Image
from task_contract import check_task_contract
from tf_only_serving import serve_without_hrnet_keras

from hrnet_keras.training import apply_overrides, load_recipe

RECIPE = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "folder_classifier.py"
TINY = ["model.width=18-small-v1", "task.crop_size=64", "task.holdout_fraction=0.25"]


def test_classification_task_keeps_the_contract(crop_tree, tmp_path):
    recipe = apply_overrides(load_recipe(RECIPE), TINY)
    task, model, metrics = check_task_contract(recipe, crop_tree, tmp_path)
    assert task.class_names == ("bottle", "bus", "car", "chair", "person", "sofa")
    assert metrics["num_images"] == 6  # 5 of the 19 persons, 1 of the 2 buses
    assert set(metrics["per_class_accuracy"]) == set(task.class_names)
    assert metrics["per_class_accuracy"]["car"] is None  # no held-out car
    for name in ("top1", "top5", "top1_error", "top5_error"):
        assert 0.0 <= metrics[name] <= 1.0
    assert abs(metrics["top1"] + metrics["top1_error"] - 1.0) < 1e-9
    served = tf.saved_model.load(str(tmp_path / "savedmodel")).signatures["serving_default"]
    outputs = served(images=tf.zeros((2, 70, 90, 3), tf.uint8))
    assert outputs["labels"].dtype == tf.string and outputs["labels"].shape == (2, 5)
    assert set(np.char.decode(outputs["labels"].numpy().astype(bytes)).ravel()) <= set(
        task.class_names
    )
    assert outputs["probabilities"].shape == (2, 5)

    # TensorFlow alone: both signatures give the serving model's names and probabilities.
    photos = sorted(crop_tree.glob("*/*"))[:3]
    batch = np.stack([np.asarray(Image.open(p).convert("RGB").resize((90, 70))) for p in photos])
    answers = serve_without_hrnet_keras(tmp_path / "savedmodel", batch, tmp_path)
    expected = task.serving_model(model)(batch)
    labels = [[v.decode() for v in row] for row in expected["labels"].numpy()]
    for answer in (answers["serving_default"], answers["serving_bytes"]):
        assert answer["labels"] == labels
        np.testing.assert_allclose(answer["probabilities"], expected["probabilities"], atol=1e-5)
