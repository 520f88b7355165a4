"""`train`, `evaluate` and `predict` in-process on the toy task."""

import json
import math
import os

import keras
import numpy as np
import pytest
from PIL import Image

from hrnet_keras.training import evaluate, load_recipe, predict, train

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPE = os.path.join(os.path.dirname(HERE), "helpers", "toy_recipe.py")


@pytest.fixture(autouse=True)
def _no_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)


def _recipe(*overrides):
    return load_recipe(RECIPE, list(overrides))


def test_train_writes_checkpoints_best_and_last_weights(tmp_path):
    run = train(_recipe(), "unused", tmp_path, verbose=0)
    assert run.steps == 6 and run.nan_step is None
    assert len(run.history["loss"]) == 2
    for name in ("best.weights.h5", "last.weights.h5", "recipe.json"):
        assert (tmp_path / name).is_file()
    state = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    assert state["step"] == 6 and state["best_loss"] == min(run.history["loss"])
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["ckpt-000000006", "latest.json"]
    assert json.loads((tmp_path / "recipe.json").read_text())["task_type"] == "ToyConfig"
    # A finished run started again has nothing left to do.
    again = train(_recipe(), "unused", tmp_path, verbose=0)
    assert again.steps == 6 and again.history == {}


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    # Batches of 4: the stream turns NaN at example 16, the 5th step's batch.
    recipe = _recipe("task.nan_from_example=16", "runtime.epochs=3")
    run = train(recipe, "unused", tmp_path, verbose=0)
    assert run.nan_step == 5
    state = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    assert state["step"] == 4
    assert all(np.all(np.isfinite(w)) for w in run.model.get_weights())
    last = recipe.build_task().build_model()
    last.load_weights(tmp_path / "last.weights.h5")  # written at the end of epoch 1, step 3
    assert all(np.all(np.isfinite(w)) for w in last.get_weights())


def test_mixed_precision_is_float32_on_cpu(tmp_path):
    run = train(
        _recipe("runtime.mixed_precision=true", "runtime.epochs=1"), "u", tmp_path, verbose=0
    )
    assert run.model.layers[1].dtype_policy.name == "float32"
    assert math.isfinite(run.history["loss"][0])
    assert keras.config.dtype_policy().name == "float32"  # restored afterwards


def test_evaluate_and_predict_load_the_weights(tmp_path):
    recipe = _recipe("runtime.epochs=1")
    train(recipe, "unused", tmp_path, verbose=0)
    metrics = evaluate(recipe, "unused", tmp_path / "best.weights.h5")
    assert 0.0 <= metrics["pixel_accuracy"] <= 1.0
    image = tmp_path / "image.png"
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(image)
    paths = predict(recipe, tmp_path / "best.weights.h5", [image], tmp_path / "out", box=(1, 2))
    assert all(os.path.isfile(p) for p in paths)
    with pytest.raises(FileNotFoundError, match="Received: weights="):
        evaluate(recipe, "unused", tmp_path / "missing.weights.h5")


def test_a_batch_that_does_not_split_over_the_replicas_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Received: global_batch_size=0"):
        train(_recipe("runtime.global_batch_size=0"), "unused", tmp_path, verbose=0)
