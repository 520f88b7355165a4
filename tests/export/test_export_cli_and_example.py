"""`hrnet-keras export` to TFLite, then the top-level example runs the file as an app would."""

import importlib.util
import pathlib

import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _example():
    spec = importlib.util.spec_from_file_location(
        "face_landmarks_on_device", ROOT / "export" / "face_landmarks_on_device.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_crop_matches_the_pipeline(shared_data):
    from hrnet_keras.landmarks import CropOptions, face_dataset, read_annotations

    faces = read_annotations(shared_data / "faces/wflw/face_landmarks_wflw_test.csv", 98)
    batch = next(
        iter(face_dataset(faces, CropOptions(), training=False, batch_size=4, targets=False))
    )
    for face, expected in zip(faces, batch["crop"].numpy()):
        side = face.scale * 200
        box = (face.center[0] - side / 2, face.center[1] - side / 2, side, side)
        crop, centre, crop_side = _example().crop_face(Image.open(face.image), box, 256)
        np.testing.assert_allclose(centre, face.center, atol=1e-4)
        assert crop_side == pytest.approx(1.25 * side)
        assert np.abs(crop.astype(float) - expected).mean() < 2.0


@pytest.mark.slow
def test_cli_export_then_example(shared_data, tmp_path, capsys):
    pytest.importorskip("ai_edge_litert")
    from hrnet_keras.cli import main
    from hrnet_keras.training import load_recipe

    recipe_path = ROOT / "recipes" / "wflw_samples_tiny.py"
    task = load_recipe(recipe_path).build_task()
    model = task.build_model()
    weights = tmp_path / "w.weights.h5"
    model.save_weights(weights)
    out = tmp_path / "face.tflite"
    argv = ["export", str(recipe_path), "--weights", str(weights), "--out", str(out)]
    assert main([*argv, "--format", "tflite", "--heatmaps"]) == 0
    assert capsys.readouterr().out.strip().endswith("face.tflite")
    assert main([*argv, "--format", "savedmodel", "--quantize", "int8"]) == 2
    face = task.read_faces(shared_data / "faces/wflw", task.config.train_annotations)[0]
    side = face.scale * 200
    box = (face.center[0] - side / 2, face.center[1] - side / 2, side, side)
    landmarks = _example().run(str(out), face.image, box)
    assert landmarks.shape == (98, 2) and np.all(np.isfinite(landmarks))
    margin = 1.25 * side / 2
    assert np.all(np.abs(landmarks - face.center) <= margin + 1)
