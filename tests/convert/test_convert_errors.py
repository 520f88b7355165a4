"""Bad checkpoints and wrong requests: a clear error, and no output file."""

import os
import sys

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

from torch_hrnet_reference import randomize, single_threaded_torch  # noqa: E402, F401

import hrnet_keras  # noqa: E402
from hrnet_keras.cli import main  # noqa: E402
from hrnet_keras.convert import convert_checkpoint, load_torch_weights, read_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def classifier_state():
    return randomize(timm.create_model("hrnet_w18_small", num_classes=4)).state_dict()


def _save(state, folder, name="ckpt.pth"):
    torch.save(state, folder / name)
    return folder / name


def _fails(capsys, folder, *argv):
    """Runs the command, expects failure, returns stderr; checks nothing was written."""
    before = set(os.listdir(folder))
    assert main(["convert", *map(str, argv)]) == 1
    assert set(os.listdir(folder)) == before, "a failed conversion left a file behind"
    return capsys.readouterr().err


def test_truncated_file(classifier_state, tmp_path, capsys):
    path = _save(classifier_state, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    err = _fails(capsys, tmp_path, path, tmp_path / "out.keras")
    assert str(path) in err and "truncated" in err


def test_not_hrnet(tmp_path, capsys):
    path = _save(torch.nn.Linear(3, 4).state_dict(), tmp_path)
    err = _fails(capsys, tmp_path, path, tmp_path / "out.keras")
    assert str(path) in err and "not an HRNet checkpoint" in err


def test_not_a_state_dict(tmp_path, capsys):
    path = _save([1, 2, 3], tmp_path)
    err = _fails(capsys, tmp_path, path, tmp_path / "out.keras")
    assert "holds no state dict" in err


@pytest.mark.parametrize("extra", [[], ["--model", "backbone"]], ids=["classifier", "backbone"])
def test_wrong_width(classifier_state, tmp_path, capsys, extra):
    path = _save(classifier_state, tmp_path)
    err = _fails(capsys, tmp_path, path, tmp_path / "out.keras", "--width", "18", *extra)
    assert "width '18-small-v1', not 18" in err and "Received: width=18" in err


def test_wrong_num_classes(classifier_state, tmp_path, capsys):
    path = _save(classifier_state, tmp_path)
    err = _fails(capsys, tmp_path, path, tmp_path / "out.keras", "--num-classes", "10")
    assert "4 classes, not 10" in err and "--drop-head" in err


def test_wrong_kind(classifier_state, tmp_path, capsys):
    path = _save(classifier_state, tmp_path)
    err = _fails(capsys, tmp_path, path, tmp_path / "out.keras", "--model", "segmenter")
    assert "holds a classifier checkpoint" in err


def test_strict_listing(classifier_state, tmp_path):
    state = dict(classifier_state)
    del state["stage2.0.fuse_layers.0.1.1.running_var"]
    state["layer1.0.conv2.weight"] = torch.zeros(32, 32, 1, 1)
    state["extra.weight"] = torch.zeros(3)
    path = _save(state, tmp_path)
    with pytest.raises(ValueError) as info:
        convert_checkpoint(path, tmp_path / "out.keras")
    message = str(info.value)
    assert "missing in the checkpoint (1): stage2.0.fuse_layers.0.1.1.running_var" in message
    assert "unexpected in the checkpoint (1): extra.weight" in message
    assert "mis-shaped (1): layer1.0.conv2.weight (32, 32, 1, 1)" in message
    assert message.endswith(f"Received: path={str(path)!r}")
    assert sorted(os.listdir(tmp_path)) == ["ckpt.pth"]


def test_model_of_another_width(classifier_state, tmp_path):
    path = _save(classifier_state, tmp_path)
    model = hrnet_keras.models.hrnet_classifier("18-small-v2", 4, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match=r"width '18-small-v1', but .* width '18-small-v2'"):
        load_torch_weights(model, path)


def test_output_must_be_keras(classifier_state, tmp_path):
    path = _save(classifier_state, tmp_path)
    with pytest.raises(ValueError, match=r"must be a \.keras file"):
        convert_checkpoint(path, tmp_path / "out.h5")


def test_torch_missing(classifier_state, tmp_path, monkeypatch):
    path = _save(classifier_state, tmp_path)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"pip install hrnet_keras\[convert\]"):
        read_checkpoint(path)
