"""TFLite export of a landmark model. Each quantisation is converted once per module (the
conversions are what take time) and the files are shared by the tests."""

import fnmatch

import numpy as np
import pytest

from hrnet_keras.export.tflite import (
    QUANTIZATIONS,
    convert_to_tflite,
    convert_variants,
    export_tflite,
)
from hrnet_keras.landmarks import LandmarkDecoder, landmark_serving_model
from hrnet_keras.landmarks.task import LandmarkTask
from hrnet_keras.models import hrnetv2

pytest.importorskip("ai_edge_litert")
from hrnet_keras.export.litert import (
    delegation,
    load_interpreter,
    median_latency_ms,
    run_signature,
)

SIZE, POINTS = 64, 5
HEATMAP_ELEMENTS = (SIZE // 4) ** 2 * POINTS


@pytest.fixture(scope="module")
def served():
    """A small landmark model (HRNetV2-W18-small-v1, 64x64 crops, 5 points), decoding inside."""
    import keras

    keras.utils.set_random_seed(0)
    net = hrnetv2(
        width="18-small-v1", num_classes=POINTS, input_shape=(SIZE, SIZE, 3), bn_momentum=0.99
    )
    return landmark_serving_model(net, heatmaps=True)


@pytest.fixture(scope="module")
def crops():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def tflite(served, tmp_path_factory):
    """`tflite(quantize)`: the path of `served` in each quantisation, all converted at once
    (one traced SavedModel), int8 with the `float_layers` a landmark task exports with."""
    rng = np.random.default_rng(1)
    calibration = [rng.integers(0, 256, (1, SIZE, SIZE, 3), dtype=np.uint8) for _ in range(4)]
    variants = convert_variants(
        served,
        QUANTIZATIONS,
        representative_data=calibration,
        float_layers=LandmarkTask.float_layers,
    )
    folder = tmp_path_factory.mktemp("tflite")
    for quantize, flatbuffer in variants.items():
        (folder / f"{quantize}.tflite").write_bytes(flatbuffer)
    return lambda quantize: folder / f"{quantize}.tflite"


def test_float_tflite_matches_keras(served, crops, tflite):
    interpreter = load_interpreter(tflite("none"), num_threads=2)
    outputs = run_signature(interpreter, crops)
    expected = served(crops)
    assert sorted(outputs) == ["heatmaps", "landmarks"]
    assert outputs["landmarks"].shape == (3, POINTS, 2)
    assert outputs["landmarks"].dtype == np.float32
    np.testing.assert_allclose(outputs["heatmaps"], np.asarray(expected["heatmaps"]), atol=1e-4)
    np.testing.assert_allclose(outputs["landmarks"], np.asarray(expected["landmarks"]), atol=1e-3)
    assert median_latency_ms(interpreter, crops[:1], runs=3, warmup=1) > 0


@pytest.mark.parametrize("quantize", ["float16", "dynamic", "int8"])
def test_quantized_tflite_runs_and_stays_close(served, crops, tflite, quantize):
    size = tflite(quantize).stat().st_size
    assert size < (0.75 if quantize != "float16" else 0.8) * tflite("none").stat().st_size
    outputs = run_signature(load_interpreter(tflite(quantize)), crops)
    reference = np.asarray(served(crops)["heatmaps"])
    error = np.abs(outputs["heatmaps"] - reference).mean() / np.abs(reference).mean()
    assert error < {"float16": 0.01, "dynamic": 0.1, "int8": 0.3}[quantize], error
    assert np.all((outputs["landmarks"] >= 0) & (outputs["landmarks"] <= SIZE - 1))


def test_int8_keeps_the_decoder_float(tflite, crops):
    """int8 landmarks are the float decoding of the int8 heatmaps (quantised sub-pixel
    arithmetic would round them to the int8 grid of the coordinates)."""
    outputs = run_signature(load_interpreter(tflite("int8")), crops)
    expected = np.asarray(LandmarkDecoder()(outputs["heatmaps"]))
    np.testing.assert_allclose(outputs["landmarks"], expected, atol=1e-3)


def test_int8_keeps_the_float_layers_float(tflite):
    """Exactly the convolutions of `LandmarkTask.float_layers` (the end of stage 4, the head)
    read float tensors in the int8 file; all the others read int8 ones."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_path=str(tflite("int8")),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}

    def layer(tensor_name):  # ".../stage4_module0_fuse_1_to_0_conv_1/convolution" -> layer
        return tensor_name.split(";")[-1].split("/")[-2].rsplit("_", 1)[0]

    # The head's last convolution writes the "heatmaps" output, named after the signature.
    convolutions = {True: set(), False: set()}
    for op in interpreter._get_ops_details():
        if op["op_name"] == "CONV_2D":
            output = tensors[int(op["outputs"][0])]["name"]
            name = layer(output) if "/" in output else "head_logits"
            convolutions[tensors[int(op["inputs"][0])]["dtype"] == np.float32].add(name)
    float_patterns = LandmarkTask.float_layers
    assert "head_logits" in convolutions[True] and "stem_conv1" in convolutions[False]
    assert any(n.startswith("stage4_module0_branch3") for n in convolutions[False])
    for is_float, names in convolutions.items():
        for name in names:
            expected = any(fnmatch.fnmatchcase(name, p) for p in float_patterns)
            assert expected == is_float, (name, is_float)


def _builtin_work(report, input_elements):
    """Values written by the ops XNNPACK does not run, apart from the input's uint8 cast."""
    return sum(size for name, size in report["builtin"] if (name, size) != ("CAST", input_elements))


@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_decoder_adds_little_work_outside_xnnpack(tflite, quantize):
    """The decoder reads a few cells per map: outside XNNPACK it writes no more than one
    heatmap's worth of values (a one-hot product wrote several, which made the int8 file
    slower than the float one), and the int8 file's float decoder splits the graph into no
    more delegated partitions than the float file has."""
    reports = {q: delegation(load_interpreter(tflite(q))) for q in ("none", quantize)}
    input_elements = SIZE * SIZE * 3
    assert _builtin_work(reports[quantize], input_elements) <= 2 * HEATMAP_ELEMENTS, reports
    assert reports[quantize]["partitions"] <= reports["none"]["partitions"], reports
    assert "CONV_2D" in reports[quantize]["delegated"]


def _maps(size, points, seed):
    """Gaussian heatmaps with sub-pixel centres, some on the border, plus noise."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1, size, (points, 2))
    centres[0] = (0.2, size - 1.3)
    yy, xx = np.mgrid[0:size, 0:size]
    maps = [np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / 8.0) for x, y in centres]
    maps = np.stack(maps, -1)[None] * rng.uniform(0.3, 1.0, points)
    return (maps + rng.normal(0, 0.01, maps.shape)).astype("float32")


@pytest.mark.parametrize("method", ["shift", "dark"])
def test_decoders_in_float_and_float16_files_match_keras(method, tmp_path):
    """float16 files store every float constant in float16: the decoder's constants must
    survive that (a 1e-10 floor became 0 and DARK's log -inf, moving points 1.5 px)."""
    import keras

    inputs = keras.Input((16, 16, 7))
    decoder = LandmarkDecoder(method, sigma=2.0, name="landmarks")
    model = keras.Model(inputs, {"landmarks": decoder(inputs)})
    maps = _maps(16, 7, seed=3)
    expected = np.asarray(model(maps)["landmarks"])
    for quantize in ("none", "float16"):
        path = tmp_path / f"{quantize}.tflite"
        path.write_bytes(convert_to_tflite(model, quantize=quantize))
        points = run_signature(load_interpreter(path), maps)["landmarks"]
        np.testing.assert_allclose(points, expected, atol=1e-3, err_msg=quantize)


def test_int8_needs_calibration(served, tmp_path):
    with pytest.raises(ValueError, match="representative_data=None"):
        export_tflite(served, tmp_path / "m.tflite", quantize="int8")
    with pytest.raises(ValueError, match="quantize='int4'"):
        export_tflite(served, tmp_path / "m.tflite", quantize="int4")


def test_write_is_atomic(served, tflite, tmp_path, monkeypatch):
    """A failed conversion leaves the previous file intact and no partial file behind."""
    import hrnet_keras.export.tflite as module

    path = tmp_path / "m.tflite"
    path.write_bytes(b"previous")

    def broken(*args, **kwargs):
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(module, "convert_to_tflite", broken)
    with pytest.raises(RuntimeError):
        export_tflite(served, path)
    assert path.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite"]
    converted = tflite("none").read_bytes()
    monkeypatch.setattr(module, "convert_to_tflite", lambda *args, **kwargs: converted)
    export_tflite(served, path)
    assert path.read_bytes() == converted and converted[4:8] == b"TFL3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite"]
