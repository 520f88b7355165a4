"""Every command's exit status: 2 and one `hrnet-keras CMD: error:` line for a usage error,
1 for a failure at run time, 0 for `--help`; never a traceback for the user's mistake."""

import pathlib

import numpy as np
import pytest
from PIL import Image

from hrnet_keras.cli import COMMANDS, main
from hrnet_keras.segmentation import SegmentationConfig
from hrnet_keras.training import Recipe
from hrnet_keras.training.run_folder import write_run_files

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOY = str(ROOT / "tests" / "helpers" / "toy_recipe.py")
VOC = str(ROOT / "recipes" / "voc_sample_tiny.py")
WFLW = str(ROOT / "recipes" / "wflw_samples_tiny.py")
W = "{tmp}/w.weights.h5"  # exists (empty: every case fails before reading it)
IMG = "{tmp}/i.png"  # exists

USAGE_ERRORS = [
    ("demo", ["--set", "runtime.nope=1"], "Unknown recipe field 'runtime.nope'"),
    ("demo", ["--verbose", "7"], "argument --verbose: invalid choice"),
    ("models", ["--only", "w7", "--no-flops"], "No variant name contains 'w7'"),
    ("convert", ["{tmp}/missing.pth", "{tmp}/o.keras"], "CHECKPOINT names no file"),
    ("convert", ["{tmp}/a.pth"], "the following arguments are required: output"),
    ("train", ["no_such", "--data-dir", "{tmp}", "--model-dir", "{tmp}/m"], "No recipe file"),
    ("train", ["--data-dir", "{tmp}", "--model-dir", "{tmp}/m"], "Name the recipe: RECIPE."),
    ("train", [TOY, "--recipe", TOY, "--data-dir", "{tmp}", "--model-dir", "m"], "recipe once"),
    ("train", [TOY, "--data-dir", "{tmp}/no", "--model-dir", "{tmp}/m"], "--data-dir names no"),
    ("train", [TOY, "--data-dir", "{tmp}"], "required: --model-dir"),
    ("evaluate", [TOY, "--data-dir", "{tmp}", "--weights", W, "--set", "x=1"], "Unknown recipe"),
    ("evaluate", [TOY, "--set", "runtime.epochs=two"], "`--set runtime.epochs` expects"),
    (
        "evaluate",
        [TOY, "--data-dir", "{tmp}", "--weights", "{tmp}/missing.weights.h5"],
        "--weights names no file. Received: weights=",
    ),
    ("evaluate", ["--data-dir", "{tmp}"], "Name the recipe: RECIPE, or --model-dir RUN"),
    ("evaluate", ["--model-dir", "{tmp}/nowhere"], "--model-dir names no folder"),
    ("evaluate", ["--model-dir", "{tmp}"], "No recipe.json in the run folder"),
    ("evaluate", [TOY, "--weights", W], "Give --data-dir DIR"),
    ("evaluate", ["--model-dir", "{tmp}/run"], "The run's data folder (its run.json"),
    ("export", ["--model-dir", "{tmp}/run", "--out", "x", "--quantize", "int8"], "no int8"),
    ("predict", [TOY, "--weights", W, IMG, "--out", "o", "--box", "1,2"], "must be x,y,w,h"),
    ("predict", [TOY, "--weights", W, "{tmp}/no.png", "--out", "o"], "IMAGE names no file"),
    ("predict", [TOY, "--weights", W, "--out", "o"], "Give at least one IMAGE"),
    ("predict", [WFLW, "--weights", W, IMG, "--out", "o"], "needs a face box"),
    ("predict", [WFLW, "--weights", W, IMG, "--out", "o", "--box", "1,2,-3,4"], "positive width"),
    (
        "predict",
        [VOC, "--weights", W, IMG, "--out", "o", "--option", "gamma=2"],
        "SegmentationTask.predict takes no option gamma",
    ),
    (
        "export",
        [VOC, "--weights", W, "--out", "{tmp}/s.tflite", "--quantize", "int8", "--data-dir", "."],
        "SegmentationTask has no int8 calibration data",
    ),
    (
        "export",
        [WFLW, "--weights", W, "--out", "x", "--format", "savedmodel", "--quantize", "int8"],
        "apply to --format tflite only",
    ),
    ("export", [WFLW, "--weights", W, "--out", "x", "--quantize", "int8"], "pass --data-dir"),
    ("export", [WFLW, "--out", "x"], "Give --weights FILE (or --model-dir RUN)"),
    ("export", [WFLW, "--weights", W, "--out", "x", "--format", "onnx"], "invalid choice"),
    ("export", [WFLW, "--weights", W, "--out", "x", "--version", "2"], "savedmodel export"),
    ("serving-config", ["{tmp}/nowhere"], "DIR must be a folder of model folders"),
    ("serving-config", ["{tmp}"], "No model folder (NAME/<version>/saved_model.pb)"),
]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "w.weights.h5").write_bytes(b"")
    (tmp_path / "a.pth").write_bytes(b"")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "i.png")
    # A run folder whose data folder has gone since it trained.
    (tmp_path / "run").mkdir()
    recipe = Recipe(SegmentationConfig(num_classes=3))
    write_run_files(recipe, tmp_path / "run", tmp_path / "gone")
    (tmp_path / "run" / "last.weights.h5").write_bytes(b"")
    return tmp_path


def test_every_command_has_a_usage_error_case():
    assert {command for command, _, _ in USAGE_ERRORS} == set(COMMANDS)


@pytest.mark.parametrize(
    ("command", "argv", "message"),
    USAGE_ERRORS,
    ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(USAGE_ERRORS)],
)
def test_usage_errors_exit_2_with_one_line(command, argv, message, folder, capsys):
    argv = [a.replace("{tmp}", str(folder)) for a in argv]
    assert main([command, *argv]) == 2
    captured = capsys.readouterr()
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith(f"hrnet-keras {command}: error: ")
    assert message in last
    assert "Traceback" not in captured.err
    assert not (folder / "s.tflite").exists() and not (folder / "m").exists()


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["fly"]) == 2
    assert capsys.readouterr().err.strip().endswith("hrnet-keras: error: unknown command 'fly'")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_exits_0(command, capsys):
    assert main([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: hrnet-keras {command}")


def test_a_failure_at_run_time_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    argv = ["train", TOY, "--data-dir", str(tmp_path), "--model-dir", str(tmp_path / "run")]
    assert main([*argv, "--verbose", "0", "--set", "task.nan_from_example=0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("hrnet-keras train: error: the loss became NaN or infinite at step 1")
