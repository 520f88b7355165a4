"""`hrnet-keras train / evaluate / predict / export` on a detection recipe, in-process."""

import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hrnet_keras.cli import main
from hrnet_keras.detection.task import BOX_METRICS

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = str(ROOT / "recipes" / "coco_samples_tiny_faster_rcnn.py")
COCO = str(ROOT / "recipes" / "coco_faster_rcnn_hrnetv2p_w32_1x.py")
# The tiny recipe on a 64 x 96 canvas, for two steps.
QUICK = [
    "--set",
    "task.min_size=64",
    "--set",
    "task.max_size=96",
    "--set",
    "task.pad_shape=(64, 96)",
    "--set",
    "task.channels=16",
    "--set",
    "task.fc_channels=32",
    "--set",
    "runtime.epochs=1",
    "--set",
    "runtime.steps_per_epoch=2",
]

THRESHOLD_3 = ["--option", "score_threshold=3"]
INT8 = ["--quantize", "int8", "--data-dir", "{tmp}"]
USAGE_ERRORS = [
    ("train", [TINY, "--data-dir", "{tmp}/none", "--model-dir", "{tmp}/m"], "--data-dir names no"),
    (
        "train",
        [TINY, "--data-dir", "{tmp}", "--model-dir", "{tmp}/m", "--set", "task.max_proposals=x"],
        "`--set task.max_proposals` expects",
    ),
    ("evaluate", [TINY, "--data-dir", "{tmp}"], "Give --weights FILE"),
    ("evaluate", [COCO, "--set", "task.anchors=3"], "Unknown recipe field 'task.anchors'"),
    (
        "predict",
        [TINY, "--weights", "{tmp}/w.weights.h5", "{tmp}/i.png", "--out", "o", "--box", "1,2,3,4"],
        "DetectionTask.predict takes no option box",
    ),
    (
        "predict",
        [TINY, "--weights", "{tmp}/w.weights.h5", "{tmp}/i.png", "--out", "o", *THRESHOLD_3],
        "`score_threshold` is a number in [0, 1]",
    ),
    (
        "export",
        [TINY, "--weights", "{tmp}/w.weights.h5", "--out", "x", *INT8],
        "DetectionTask exports to savedmodel only (--format). Received: format='tflite'",
    ),
    (
        "export",
        [TINY, "--weights", "{tmp}/w.weights.h5", "--out", "x", "--format", "savedmodel", *INT8],
        "--quantize and --heatmaps apply to --format tflite only",
    ),
]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "w.weights.h5").write_bytes(b"")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "i.png")
    return tmp_path


@pytest.mark.parametrize(("command", "argv", "message"), USAGE_ERRORS)
def test_usage_errors_exit_2_with_one_line(command, argv, message, folder, capsys):
    argv = [a.replace("{tmp}", str(folder)) for a in argv]
    assert main([command, *argv]) == 2
    captured = capsys.readouterr()
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith(f"hrnet-keras {command}: error: ") and message in last, last
    assert "Traceback" not in captured.err


@pytest.mark.slow
def test_train_evaluate_predict_export_a_run(shared_data, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    data_dir, run = shared_data / "coco_persons", tmp_path / "run"
    argv = ["train", TINY, "--data-dir", str(data_dir), "--model-dir", str(run), "--verbose", "0"]
    assert main([*argv, *QUICK]) == 0
    assert json.loads((run / "recipe.json").read_text())["task_type"] == "DetectionConfig"
    capsys.readouterr()

    # The run folder alone: its recipe.json (a DetectionConfig), weights and data folder.
    assert main(["evaluate", "--model-dir", str(run)]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(metrics) == list(BOX_METRICS)

    photo = data_dir / "000000040083.jpg"
    out = tmp_path / "pictures"
    argv = ["predict", "--model-dir", str(run), str(photo), str(data_dir / "000000000785.jpg")]
    assert main([*argv, "--out", str(out), "--option", "score_threshold=0.0"]) == 0
    written = capsys.readouterr().out.split()
    assert written == [str(out / "000000040083.jpg"), str(out / "000000000785.jpg")]
    with Image.open(written[0]) as picture, Image.open(photo) as original:
        assert picture.format == "JPEG" and picture.size == original.size
        # Boxes were drawn: the picture is not the photo.
        assert np.abs(np.asarray(picture, float) - np.asarray(original, float)).max() > 100

    saved = tmp_path / "savedmodel"
    argv = ["export", "--model-dir", str(run), "--format", "savedmodel", "--out", str(saved)]
    assert main(argv) == 0
    # A TF Serving model folder: the export is its version 1.
    assert capsys.readouterr().out.split() == [str(saved / "1")]
    signatures = tf.saved_model.load(str(saved / "1")).signatures
    assert sorted(signatures) == ["serving_bytes", "serving_default"]
    served = signatures["serving_bytes"](images=tf.constant([photo.read_bytes()]))
    assert served["boxes"].shape == (1, 100, 4)
