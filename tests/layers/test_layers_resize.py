"""`Resize` against PyTorch's F.interpolate, in both align_corners modes, and its config."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from hrnet_keras.layers import Resize

SIZES = [((4, 5), (8, 10)), ((3, 7), (16, 9)), ((9, 9), (4, 5)), ((1, 1), (3, 3)), ((6, 2), (1, 1))]


def _torch_interpolate(x, size, mode, align_corners):
    torch = pytest.importorskip("torch")
    kwargs = {} if mode == "nearest" else {"align_corners": align_corners}
    t = torch.nn.functional.interpolate(
        torch.from_numpy(x).permute(0, 3, 1, 2), size=size, mode=mode, **kwargs
    )
    return t.permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("in_size, out_size", SIZES)
def test_bilinear_matches_pytorch(in_size, out_size, align_corners):
    x = np.random.default_rng(0).standard_normal((2, *in_size, 3)).astype("float32")
    reference = np.zeros((1, *out_size, 1), "float32")
    ours = np.asarray(Resize("bilinear", align_corners=align_corners)([x, reference]))
    theirs = _torch_interpolate(x, out_size, "bilinear", align_corners)
    np.testing.assert_allclose(ours, theirs, atol=2e-6)


@pytest.mark.parametrize("in_size, out_size", SIZES)
def test_nearest_matches_pytorch(in_size, out_size):
    x = np.random.default_rng(1).standard_normal((2, *in_size, 3)).astype("float32")
    reference = np.zeros((1, *out_size, 1), "float32")
    ours = np.asarray(Resize("nearest")([x, reference]))
    np.testing.assert_array_equal(ours, _torch_interpolate(x, out_size, "nearest", None))


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_scale_with_unknown_shapes(interpolation, align_corners):
    layer = Resize(interpolation, align_corners=align_corners, scale=4)
    x = np.random.default_rng(2).standard_normal((1, 3, 5, 2)).astype("float32")
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 2), tf.float32)])
    theirs = _torch_interpolate(x, (12, 20), interpolation, align_corners)
    np.testing.assert_allclose(fn(x).numpy(), theirs, atol=2e-6)


def test_config_round_trip():
    layer = Resize("bilinear", align_corners=True, scale=2, name="up")
    clone = Resize.from_config(layer.get_config())
    assert (clone.interpolation, clone.align_corners, clone.scale, clone.name) == (
        "bilinear",
        True,
        2,
        "up",
    )
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"interpolation": "cubic"}, "interpolation='cubic'"),
        ({"scale": 0}, "scale=0"),
        ({"scale": 1.5}, "scale=1.5"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Resize(**kwargs)


def test_single_input_needs_scale():
    with pytest.raises(ValueError, match="reference"):
        Resize("bilinear")(np.zeros((1, 2, 2, 1), "float32"))
