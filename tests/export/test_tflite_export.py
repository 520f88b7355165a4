import numpy as np
import pytest

from hrnet_keras.export.tflite import convert_to_tflite, export_tflite
from hrnet_keras.landmarks import landmark_serving_model
from hrnet_keras.models import hrnetv2

pytest.importorskip("ai_edge_litert")
from hrnet_keras.export.litert import load_interpreter, median_latency_ms, run_signature


@pytest.fixture(scope="module")
def served():
    """A small landmark model (64x64 crops, 5 points) with decoding in the graph."""
    import keras

    keras.utils.set_random_seed(0)
    net = hrnetv2(width=4, num_classes=5, input_shape=(64, 64, 3), bn_momentum=0.99)
    return landmark_serving_model(net, heatmaps=True)


@pytest.fixture(scope="module")
def crops():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)


def test_float_tflite_matches_keras(served, crops, tmp_path):
    path = export_tflite(served, tmp_path / "m.tflite")
    interpreter = load_interpreter(path, num_threads=2)
    outputs = run_signature(interpreter, crops)
    expected = served(crops)
    assert sorted(outputs) == ["heatmaps", "landmarks"]
    assert outputs["landmarks"].shape == (3, 5, 2) and outputs["landmarks"].dtype == np.float32
    np.testing.assert_allclose(outputs["heatmaps"], np.asarray(expected["heatmaps"]), atol=1e-4)
    np.testing.assert_allclose(outputs["landmarks"], np.asarray(expected["landmarks"]), atol=1e-3)
    assert median_latency_ms(interpreter, crops[:1], runs=3, warmup=1) > 0


@pytest.mark.slow
@pytest.mark.parametrize("quantize", ["float16", "dynamic", "int8"])
def test_quantized_tflite_runs_and_stays_close(served, crops, tmp_path, quantize):
    rng = np.random.default_rng(1)
    calibration = [rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8) for _ in range(8)]
    path = tmp_path / f"{quantize}.tflite"
    export_tflite(served, path, quantize=quantize, representative_data=calibration)
    float_size = len(convert_to_tflite(served))
    assert path.stat().st_size < (0.75 if quantize != "float16" else 0.8) * float_size
    outputs = run_signature(load_interpreter(path), crops)
    reference = np.asarray(served(crops)["heatmaps"])
    error = np.abs(outputs["heatmaps"] - reference).mean() / np.abs(reference).mean()
    assert error < {"float16": 0.01, "dynamic": 0.1, "int8": 0.3}[quantize], error
    assert np.all((outputs["landmarks"] >= 0) & (outputs["landmarks"] <= 63))


def test_int8_needs_calibration(served, tmp_path):
    with pytest.raises(ValueError, match="representative_data=None"):
        export_tflite(served, tmp_path / "m.tflite", quantize="int8")
    with pytest.raises(ValueError, match="quantize='int4'"):
        export_tflite(served, tmp_path / "m.tflite", quantize="int4")


def test_write_is_atomic(served, tmp_path, monkeypatch):
    """A failed conversion leaves the previous file intact and no partial file behind."""
    path = tmp_path / "m.tflite"
    path.write_bytes(b"previous")

    def broken(*args, **kwargs):
        raise RuntimeError("converter crashed")

    import hrnet_keras.export.tflite as tflite

    monkeypatch.setattr(tflite, "convert_to_tflite", broken)
    with pytest.raises(RuntimeError):
        export_tflite(served, path)
    assert path.read_bytes() == b"previous" and sorted(p.name for p in tmp_path.iterdir()) == [
        "m.tflite"
    ]
    monkeypatch.undo()
    export_tflite(served, path)
    assert path.read_bytes()[4:8] == b"TFL3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite"]


@pytest.mark.slow
def test_int8_keeps_the_decoder_float(served, crops):
    """With the decoder's layer kept float, int8 landmarks are the float decoding of the int8
    heatmaps (quantised sub-pixel arithmetic would round them)."""
    from hrnet_keras.landmarks import LandmarkDecoder

    rng = np.random.default_rng(2)
    calibration = [rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8) for _ in range(8)]
    flatbuffer = convert_to_tflite(
        served, quantize="int8", representative_data=calibration, float_layers=("landmarks",)
    )
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    outputs = run_signature(interpreter, crops)
    expected = np.asarray(LandmarkDecoder()(outputs["heatmaps"]))
    np.testing.assert_allclose(outputs["landmarks"], expected, atol=1e-3)
