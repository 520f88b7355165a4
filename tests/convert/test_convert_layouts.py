"""Conversion of the segmentation, face and detection key layouts, against PyTorch.

Reference outputs are computed before any Keras model runs (see `single_threaded_torch`).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")
keras = pytest.importorskip("keras")

from torch_hrnet_reference import (  # noqa: E402
    HRFPN,
    DenseHead,
    convert,
    detection_state,
    randomize,
    relative_error,
    segmentation_state,
    single_threaded_torch,  # noqa: F401
    timm_branches,
    to_nchw,
    to_nhwc,
)

import hrnet_keras  # noqa: E402
from hrnet_keras.convert import load_torch_weights  # noqa: E402

TOLERANCE = 1e-4
SMALL = "18-small-v1"
CHANNELS = 240  # 15C for W18-small-v1
SIZE = 64


def _images(seed=0):
    return np.random.RandomState(seed).randn(2, SIZE, SIZE, 3).astype("float32")


def _dense_reference(align_corners, num_classes=5, seed=3):
    branches = timm_branches(SMALL, upsample="bilinear", align_corners=align_corners, seed=seed)
    return randomize(DenseHead(branches, CHANNELS, num_classes, align_corners), seed)


def _torch_out(reference, x):
    with torch.no_grad():
        out = reference(to_nchw(x))
    return [to_nhwc(t) for t in out] if isinstance(out, list) else to_nhwc(out)


@pytest.fixture(scope="module")
def segmentation_checkpoint(tmp_path_factory):
    """A segmentation-code checkpoint (nested, `model.` prefix, `loss.*`), images, outputs."""
    reference = _dense_reference(align_corners=False)
    path = tmp_path_factory.mktemp("seg") / "hrnet_seg.pth"
    torch.save({"epoch": 3, "state_dict": segmentation_state(reference)}, path)
    x = _images()
    return reference, path, x, _torch_out(reference, x)


def test_segmentation_layout(segmentation_checkpoint, tmp_path):
    _, path, x, expected = segmentation_checkpoint
    convert(path, tmp_path / "seg.keras", "--model", "segmenter", "--upsample", "bilinear")
    model = keras.saving.load_model(tmp_path / "seg.keras")
    assert relative_error(model(x), expected) <= TOLERANCE


def test_segmentation_layout_align_corners(tmp_path):
    reference = _dense_reference(align_corners=True, seed=4)
    x = _images(1)
    expected = _torch_out(reference, x)
    torch.save(segmentation_state(reference, counters=False), tmp_path / "seg_ac.pth")
    convert(tmp_path / "seg_ac.pth", tmp_path / "seg_ac.keras", "--align-corners")
    model = keras.saving.load_model(tmp_path / "seg_ac.keras")
    assert relative_error(model(x), expected) <= TOLERANCE
    # The same weights with align_corners=False compute something else: the option matters.
    other = hrnet_keras.models.hrnetv2(SMALL, 5, input_shape=(SIZE, SIZE, 3))
    load_torch_weights(other, tmp_path / "seg_ac.pth")
    assert relative_error(other(x), expected) > 100 * TOLERANCE


def test_face_layout_safetensors(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    reference = _dense_reference(align_corners=False, num_classes=7, seed=5)
    x = _images(2)
    expected = _torch_out(reference, x)
    state = segmentation_state(reference, face=True)
    state = {f"module.{k}": v.contiguous() for k, v in state.items()}
    safetensors_torch.save_file(state, tmp_path / "face.safetensors")
    convert(tmp_path / "face.safetensors", tmp_path / "face.keras")
    model = keras.saving.load_model(tmp_path / "face.keras")
    assert model.get_layer("stage2_module0_fuse_1_to_0_up").interpolation == "bilinear"
    assert relative_error(model(x), expected) <= TOLERANCE


@pytest.mark.parametrize("mmdet_v2", [False, True], ids=["hrnet_naming", "mmdet_v2_naming"])
def test_detection_layout(mmdet_v2, tmp_path):
    reference = randomize(HRFPN(timm_branches(SMALL, seed=6), CHANNELS, 16, 5), seed=6)
    x = _images(3)
    expected = _torch_out(reference, x)
    state = detection_state(reference, mmdet_v2=mmdet_v2)
    torch.save({"meta": {}, "state_dict": state}, tmp_path / "det.pth")
    convert(tmp_path / "det.pth", tmp_path / "det.keras", "--model", "hrnetv2p")
    model = keras.saving.load_model(tmp_path / "det.keras")
    outputs = model(x)
    assert sorted(outputs) == ["P2", "P3", "P4", "P5", "P6"]
    for level, want in enumerate(expected, start=2):
        assert relative_error(outputs[f"P{level}"], want) <= TOLERANCE


def test_builder_weights_argument(segmentation_checkpoint):
    _, path, x, expected = segmentation_checkpoint
    model = hrnet_keras.models.hrnetv2(SMALL, 5, input_shape=(SIZE, SIZE, 3), weights=path)
    assert relative_error(model(x), expected) <= TOLERANCE


def test_drop_head(segmentation_checkpoint, tmp_path):
    reference, path, _, _ = segmentation_checkpoint
    convert(path, tmp_path / "new.keras", "--num-classes", "3", "--drop-head")
    model = keras.saving.load_model(tmp_path / "new.keras")
    assert model.get_layer("head_logits").kernel.shape == (1, 1, CHANNELS, 3)
    kernel = reference.last_layer[0].weight.detach().numpy().transpose(2, 3, 1, 0)
    np.testing.assert_array_equal(model.get_layer("head_conv1").kernel.numpy(), kernel)


def test_backbone_from_task_checkpoint_not_strict(segmentation_checkpoint):
    _, path, _, _ = segmentation_checkpoint
    backbone = hrnet_keras.models.hrnet_backbone(SMALL, upsample="bilinear")
    report = load_torch_weights(backbone, path, strict=False)
    assert not report.missing and not report.mismatched
    assert report.unexpected and all(k.startswith("last_layer.") for k in report.unexpected)
    assert report.ignored == ["loss.criterion.weight"]


def test_backbone_only_into_another_task(segmentation_checkpoint):
    reference, path, _, _ = segmentation_checkpoint
    model = hrnet_keras.models.hrnetv2p(SMALL, channels=16, upsample="bilinear")
    report = load_torch_weights(model, path, backbone_only=True)
    expected = ["v2p_reduction_conv", *(f"v2p_fpn{i}_conv" for i in range(5))]
    assert sorted(report.skipped) == sorted(expected)
    assert {k.split(".")[0] for k in report.ignored} == {"loss", "last_layer"}
    kernel = reference.backbone.conv1.weight.detach().numpy().transpose(2, 3, 1, 0)
    np.testing.assert_array_equal(model.get_layer("stem_conv1").kernel.numpy(), kernel)


def test_task_checkpoint_to_backbone(segmentation_checkpoint, tmp_path):
    reference, path, x, _ = segmentation_checkpoint
    with torch.no_grad():
        expected = [to_nhwc(t) for t in reference.backbone(to_nchw(x))]
    convert(path, tmp_path / "backbone.keras", "--model", "backbone")
    backbone = keras.saving.load_model(tmp_path / "backbone.keras")
    assert backbone.upsample == "bilinear"
    pyramid = backbone(x)
    for level, want in enumerate(expected, start=2):
        assert relative_error(pyramid[f"P{level}"], want) <= TOLERANCE
