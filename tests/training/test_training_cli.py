"""The train, evaluate, predict and demo commands, in-process."""

import importlib.util
import json
import os

import numpy as np
import pytest
from PIL import Image

from hrnet_keras.cli import main

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPE = os.path.join(os.path.dirname(HERE), "helpers", "toy_recipe.py")


@pytest.fixture(autouse=True)
def _no_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)


def test_train_evaluate_predict(tmp_path, capsys):
    run_dir, data_dir = tmp_path / "run", tmp_path / "data"
    data_dir.mkdir()
    common = ["--set", "runtime.epochs=1"]
    assert (
        main(
            [
                "train",
                RECIPE,
                "--data-dir",
                str(data_dir),
                "--model-dir",
                str(run_dir),
                "--verbose",
                "0",
                *common,
            ]
        )
        == 0
    )
    assert f"best weights: {run_dir}/best.weights.h5" in capsys.readouterr().out

    weights = str(run_dir / "best.weights.h5")
    # The recipe files' docstrings spell it --recipe R --data D.
    argv = ["evaluate", "--recipe", RECIPE, "--data", str(data_dir), "--weights", weights]
    assert main([*argv, *common]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(metrics) == {"pixel_accuracy", "num_images"}

    # The run folder alone: its recipe.json, best weights and the data folder it trained on.
    assert main(["evaluate", "--model-dir", str(run_dir)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == f"Evaluating {weights} on {data_dir}."
    assert json.loads(out[-1]) == metrics
    # Without best weights it takes the last ones; --set still applies to the run's recipe.
    os.remove(weights)
    assert main(["evaluate", "--model-dir", str(run_dir), "--set", "task.num_examples=8"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith(f"Evaluating {run_dir / 'last.weights.h5'} on")
    assert json.loads(out[-1])["num_images"] == 8

    image = tmp_path / "face.png"
    Image.fromarray(np.zeros((48, 48, 3), np.uint8)).save(image)
    out = tmp_path / "pictures"
    weights = str(run_dir / "last.weights.h5")
    argv = ["predict", RECIPE, "--weights", weights, str(image), "--out", str(out)]
    assert main([*argv, "--box", "1,2,30,40", "--option", "alpha=0.3"]) == 0
    assert capsys.readouterr().out.split() == [str(out / "face.png"), str(out / "options.json")]
    assert json.loads((out / "options.json").read_text()) == {"alpha": 0.3, "box": [1, 2, 30, 40]}
    # With --model-dir every positional argument is an image.
    argv = ["predict", "--model-dir", str(run_dir), str(image), str(image), "--out", str(out)]
    assert main(argv) == 0
    assert capsys.readouterr().out.split().count(str(out / "face.png")) == 2

    # The toy task has no int8 calibration data: a usage error naming it, before any work.
    argv = ["export", "--model-dir", str(run_dir), "--out", str(tmp_path / "t.tflite")]
    assert main([*argv, "--quantize", "int8"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hrnet-keras export: error: ToyTask has no int8 calibration data")
    assert not (tmp_path / "t.tflite").exists()


@pytest.mark.slow
def test_demo_trains_evaluates_predicts_and_exports(tmp_path, capsys):
    argv = ["demo", "--out", str(tmp_path), "--verbose", "0"]
    assert main([*argv, "--set", "runtime.epochs=1", "--set", "runtime.steps_per_epoch=2"]) == 0
    out = capsys.readouterr().out
    for line in ("metrics:", "predictions:", "SavedModel:", "run folder:", "dataset:"):
        assert line in out
    serving = tmp_path / "serving"
    assert (serving / "segmenter" / "1" / "saved_model.pb").is_file()
    # It ends with a folder TF Serving serves as it is, and the command that serves it.
    assert (
        out.rstrip()
        .splitlines()[-1]
        .startswith(f"docker run --rm -p 8500:8500 -p 8501:8501 -v {serving}:/models")
    )
    if importlib.util.find_spec("tensorflow_serving") is not None:
        assert 'base_path: "/models/segmenter"' in (serving / "models.config").read_text()
    assert "mIoU" in json.loads((tmp_path / "metrics.json").read_text())
    assert len(os.listdir(tmp_path / "predictions")) == 8
