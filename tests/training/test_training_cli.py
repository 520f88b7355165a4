"""The train, evaluate, predict and demo commands, in-process."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from hrnet_keras.cli import main

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPE = os.path.join(HERE, "toy_recipe.py")


@pytest.fixture(autouse=True)
def _no_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)


def test_train_evaluate_predict(tmp_path, capsys):
    run_dir = tmp_path / "run"
    common = ["--set", "runtime.epochs=1"]
    assert (
        main(
            [
                "train",
                RECIPE,
                "--data-dir",
                "u",
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
    argv = ["evaluate", "--recipe", RECIPE, "--data", "u", "--weights", weights, *common]
    assert main(argv) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(metrics) == {"pixel_accuracy", "num_images"}

    image = tmp_path / "face.png"
    Image.fromarray(np.zeros((48, 48, 3), np.uint8)).save(image)
    out = tmp_path / "pictures"
    argv = ["predict", RECIPE, "--weights", weights, str(image), "--out", str(out)]
    assert main([*argv, "--box", "1,2,30,40", "--option", "alpha=0.3"]) == 0
    assert capsys.readouterr().out.split() == [str(out / "face.png"), str(out / "options.json")]
    assert json.loads((out / "options.json").read_text()) == {"alpha": 0.3, "box": [1, 2, 30, 40]}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "no_such_recipe", "--data-dir", "d", "--model-dir", "m"], "No recipe file"),
        (["train", "--data-dir", "d", "--model-dir", "m"], "Give the recipe once"),
        (
            ["evaluate", RECIPE, "--data-dir", "d", "--weights", "w", "--set", "x=1"],
            "Unknown recipe field",
        ),
        (
            ["predict", RECIPE, "--weights", "w", "i.png", "--out", "o", "--box", "1,2"],
            "--box` must be x,y,w,h",
        ),
        (
            ["evaluate", RECIPE, "--data-dir", "d", "--weights", "missing.weights.h5"],
            "Received: weights=",
        ),
    ],
)
def test_bad_arguments_get_one_clear_line(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_demo_trains_evaluates_predicts_and_exports(tmp_path, capsys):
    argv = ["demo", "--out", str(tmp_path), "--verbose", "0"]
    assert main([*argv, "--set", "runtime.epochs=1", "--set", "runtime.steps_per_epoch=2"]) == 0
    out = capsys.readouterr().out
    for line in ("metrics:", "predictions:", "SavedModel:", "run folder:", "dataset:"):
        assert line in out
    assert (tmp_path / "savedmodel" / "saved_model.pb").is_file()
    assert "mIoU" in json.loads((tmp_path / "metrics.json").read_text())
    assert len(os.listdir(tmp_path / "predictions")) == 8
