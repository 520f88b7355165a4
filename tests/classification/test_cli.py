"""`hrnet-keras train / evaluate / predict / export` with the folder classifier recipe, on a
tree of real crops: the run folder keeps the classes, which every later command finds.

Heavy (a training run and an export: minutes on 2 cores); the default run checks the same
task methods directly (`test_task_contract.py`, `test_serving.py`, `test_finetune.py`)."""

import json
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

from hrnet_keras.cli import main

pytestmark = pytest.mark.heavy

RECIPE = str(pathlib.Path(__file__).resolve().parents[2] / "recipes" / "folder_classifier.py")
CLASSES = ["bottle", "bus", "car", "chair", "person", "sofa"]
TINY = [
    *("--set", "task.crop_size=64"),
    *("--set", "runtime.epochs=1"),
    *("--set", "runtime.steps_per_epoch=2"),
    *("--set", "runtime.global_batch_size=4"),
    *("--set", "task.holdout_fraction=0.25"),
]


@pytest.fixture(autouse=True)
def _no_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)


@pytest.fixture(scope="module")
def run_dir(crop_tree, tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "crops"
    command = ["train", RECIPE, "--data-dir", str(crop_tree), "--model-dir", str(run)]
    assert main([*command, "--verbose", "0", *TINY]) == 0
    return run


def test_the_run_folder_keeps_the_classes(run_dir):
    assert json.loads((run_dir / "classes.json").read_text()) == CLASSES
    assert json.loads((run_dir / "recipe.json").read_text())["task_type"] == "ClassificationConfig"


def test_evaluate_prints_top1_top5_and_per_class_accuracy(run_dir, capsys):
    assert main(["evaluate", "--model-dir", str(run_dir)]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("top1", "top5", "top1_error", "top5_error"):
        assert 0.0 <= metrics[key] <= 1.0
    assert sorted(metrics["per_class_accuracy"]) == CLASSES
    assert metrics["num_images"] == 6


def test_predict_prints_the_top_classes_and_draws(run_dir, crop_tree, tmp_path, capsys):
    image = sorted((crop_tree / "person").glob("*.jpg"))[0]
    weights = run_dir / "best.weights.h5"
    command = ["predict", RECIPE, "--weights", str(weights), str(image), "--out", str(tmp_path)]
    assert main([*command, "--set", "task.crop_size=64"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    ranked = lines[-2].split(": ", 1)[1].split(", ")
    assert lines[-2].startswith(str(image)) and len(ranked) == 5
    names = [entry.rsplit(" ", 1)[0] for entry in ranked]
    probabilities = [float(entry.rsplit(" ", 1)[1]) for entry in ranked]
    assert set(names) <= set(CLASSES) and probabilities == sorted(probabilities, reverse=True)
    picture = pathlib.Path(lines[-1])
    assert picture.name == f"{image.stem}_classes.png" and picture.is_file()

    # Weights without the run's classes.json beside them: the classes are unknown.
    alone = tmp_path / "alone" / "w.weights.h5"
    alone.parent.mkdir()
    shutil.copy(weights, alone)
    assert main(["predict", RECIPE, "--weights", str(alone), str(image), "--out", "o"]) == 2
    assert "classes are not known" in capsys.readouterr().err


def test_export_serves_class_names(run_dir, tmp_path):
    out = tmp_path / "served"
    command = ["export", "--model-dir", str(run_dir), "--out", str(out)]
    assert main([*command, "--format", "savedmodel"]) == 0
    signatures = tf.saved_model.load(str(out)).signatures
    labels = signatures["serving_default"](images=tf.zeros((1, 50, 80, 3), tf.uint8))["labels"]
    assert set(np.char.decode(labels.numpy().astype(bytes)).ravel()) <= set(CLASSES)
    png = tf.io.encode_png(tf.zeros((50, 80, 3), tf.uint8))
    from_file = signatures["serving_bytes"](images=tf.stack([png]))["labels"]
    np.testing.assert_array_equal(from_file, labels)


def test_export_to_tflite_is_a_usage_error(run_dir, tmp_path, capsys):
    command = ["export", "--model-dir", str(run_dir), "--out", str(tmp_path / "m.tflite")]
    assert main([*command, "--format", "tflite"]) == 2
    assert "savedmodel only" in capsys.readouterr().err
