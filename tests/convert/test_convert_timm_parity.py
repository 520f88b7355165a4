"""Exact parity of converted timm HRNet classifiers: logits and the four branches."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")
keras = pytest.importorskip("keras")

from torch_hrnet_reference import (  # noqa: E402
    TIMM_NAMES,
    convert,
    randomize,
    relative_error,
    single_threaded_torch,  # noqa: F401
    timm_branches,
    to_nchw,
    to_nhwc,
)

import hrnet_keras  # noqa: E402
from hrnet_keras.models import hrnet_spec  # noqa: E402

TOLERANCE = 1e-4
SIZE = 64


def _images(seed=0):
    return np.random.RandomState(seed).randn(2, SIZE, SIZE, 3).astype("float32")


def _branch_outputs(model, width):
    last = hrnet_spec(width).modules[-1] - 1
    names = [f"stage4_module{last}_fuse_to_{i}_relu" for i in range(4)]
    return keras.Model(model.inputs[0], [model.get_layer(n).output for n in names])


# W18 and W32 repeat W18-small(-v2)'s modules with more blocks and channels (55 and 80 s on
# CI's 2 cores): `pytest -m heavy` runs them.
PARITY_WIDTHS = [
    pytest.param(width, id=name, marks=[pytest.mark.heavy] if width in (18, 32) else [])
    for width, name in TIMM_NAMES.items()
]


@pytest.mark.parametrize("width", PARITY_WIDTHS)
def test_timm_classifier_parity(width, tmp_path):
    reference = randomize(timm.create_model(TIMM_NAMES[width], num_classes=10), seed=1)
    features = timm_branches(width)
    features.load_state_dict(
        {k: v for k, v in reference.state_dict().items() if k in features.state_dict()}
    )
    x = _images()
    with torch.no_grad():
        logits = reference(to_nchw(x)).numpy()
        expected = [to_nhwc(t) for t in features(to_nchw(x))]
    torch.save(reference.state_dict(), tmp_path / "timm.pth")

    convert(tmp_path / "timm.pth", tmp_path / "timm.keras", "--model", "classifier")
    model = keras.saving.load_model(tmp_path / "timm.keras")
    error = relative_error(model(x), logits)
    print(f"{TIMM_NAMES[width]} logits: {error:.2e}")
    assert error <= TOLERANCE
    branches = _branch_outputs(model, width)(x)
    for level, (got, want) in enumerate(zip(branches, expected), start=2):
        error = relative_error(got, want)
        print(f"{TIMM_NAMES[width]} P{level}: {error:.2e}")
        assert error <= TOLERANCE


def test_timm_ssld_head_without_bias(tmp_path):
    reference = randomize(
        timm.create_model("hrnet_w18_small", num_classes=7, head_conv_bias=False), seed=2
    )
    assert "final_layer.0.bias" not in reference.state_dict()
    x = _images(1)
    with torch.no_grad():
        logits = reference(to_nchw(x)).numpy()
    torch.save(reference.state_dict(), tmp_path / "ssld.pth")
    model = hrnet_keras.models.hrnet_classifier(
        "18-small-v1", 7, input_shape=(SIZE, SIZE, 3), weights=tmp_path / "ssld.pth"
    )
    np.testing.assert_array_equal(model.get_layer("head_final_conv").bias.numpy(), 0.0)
    assert relative_error(model(x), logits) <= TOLERANCE


def test_timm_features_into_backbone(tmp_path):
    features = timm_branches("18-small-v2", seed=3)
    x = _images(2)
    with torch.no_grad():
        expected = [to_nhwc(t) for t in features(to_nchw(x))]
    torch.save(features.state_dict(), tmp_path / "features.pth")
    convert(tmp_path / "features.pth", tmp_path / "backbone.keras")
    backbone = keras.saving.load_model(tmp_path / "backbone.keras")
    assert isinstance(backbone, hrnet_keras.models.HRNetBackbone)
    pyramid = backbone(x)
    for level, want in enumerate(expected, start=2):
        assert relative_error(pyramid[f"P{level}"], want) <= TOLERANCE
