"""`atomic_path`: a failed write keeps the previous file or folder and leaves nothing behind."""

import json
import os

import pytest

from hrnet_keras.utils.atomic import atomic_path


def test_a_file_is_replaced_whole(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("old")
    with atomic_path(path) as partial:
        assert os.path.dirname(partial) == str(tmp_path)
        assert partial.endswith("state.json")
        with open(partial, "w") as f:
            json.dump({"step": 2}, f)
    assert json.loads(path.read_text()) == {"step": 2}
    assert os.listdir(tmp_path) == ["state.json"]


def test_a_failing_file_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"), atomic_path(path) as partial:
        with open(partial, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.keras"]


def test_a_failing_first_write_leaves_nothing(tmp_path):
    target = tmp_path / "sub" / "m.tflite"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as partial:
        open(partial, "wb").close()
        raise KeyboardInterrupt
    assert os.listdir(tmp_path / "sub") == []


def test_writing_nothing_is_an_error_that_keeps_the_old_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(FileNotFoundError, match="Nothing was written"), atomic_path(path):
        pass
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_folder_is_replaced_whole(tmp_path):
    path = tmp_path / "export"
    path.mkdir()
    (path / "old.pb").write_text("old")
    with atomic_path(path) as partial:
        os.makedirs(partial)
        with open(os.path.join(partial, "new.pb"), "w") as f:
            f.write("new")
    assert os.listdir(path) == ["new.pb"]
    assert os.listdir(tmp_path) == ["export"]


def test_a_failing_folder_write_keeps_the_old_folder(tmp_path):
    path = tmp_path / "export"
    path.mkdir()
    (path / "saved_model.pb").write_text("old")
    with pytest.raises(RuntimeError, match="crashed"), atomic_path(path) as partial:
        os.makedirs(os.path.join(partial, "variables"))
        raise RuntimeError("crashed")
    assert os.listdir(path) == ["saved_model.pb"]
    assert (path / "saved_model.pb").read_text() == "old"
    assert os.listdir(tmp_path) == ["export"]


def test_a_failing_final_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    path = tmp_path / "export"
    path.mkdir()
    (path / "saved_model.pb").write_text("old")
    real_replace = os.replace

    def replace(source, target):
        if os.path.basename(source).startswith(".partial-"):
            raise OSError("rename failed")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="rename failed"), atomic_path(path) as partial:
        os.makedirs(partial)
    assert (path / "saved_model.pb").read_text() == "old"
    assert os.listdir(tmp_path) == ["export"]
