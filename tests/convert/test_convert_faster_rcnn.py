"""Converting mmdetection's Faster R-CNN checkpoints whole: both key layouts (mmdetection 2.x,
and 1.x as the HRNet repository saves it), strict loading, and the other models such a
checkpoint converts to, against the PyTorch reference detector on small noise images.

Reference outputs are computed before any Keras model runs (see `single_threaded_torch`).
"""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("timm")

import keras  # noqa: E402
from faster_rcnn_parity import (  # noqa: E402
    assert_same_detections,
    keras_detections,
    keras_proposals,
    proposal_differences,
)
from torch_faster_rcnn_reference import (  # noqa: E402
    build_reference,
    mmdet_v1_state_dict,
    reference_detect,
    reference_proposals,
    reference_state_dict,
)
from torch_hrnet_reference import single_threaded_torch  # noqa: E402, F401

from hrnet_keras.cli import main  # noqa: E402
from hrnet_keras.convert import canonicalize, convert_checkpoint, load_torch_weights  # noqa: E402
from hrnet_keras.models import faster_rcnn, hrnetv2p  # noqa: E402

SMALL = "18-small-v1"
NUM_CLASSES, CHANNELS, FC = 3, 16, 32
HEIGHT, WIDTH = 96, 128
SHAPES = [(HEIGHT, WIDTH), (80, 100)]  # the second image is padded
HEAD_KEYS = {
    f"{module}.{param}"
    for module in (
        "rpn_head.rpn_conv",
        "rpn_head.rpn_cls",
        "rpn_head.rpn_reg",
        "roi_head.bbox_head.shared_fcs.0",
        "roi_head.bbox_head.shared_fcs.1",
        "roi_head.bbox_head.fc_cls",
        "roi_head.bbox_head.fc_reg",
    )
    for param in ("weight", "bias")
}


def _save(state, path):
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    torch.save({"meta": {"epoch": 12}, "state_dict": tensors}, path)
    return path


def _build(num_classes=NUM_CLASSES, **kwargs):
    return faster_rcnn(
        SMALL, num_classes, channels=CHANNELS, rpn_channels=CHANNELS, fc_channels=FC, **kwargs
    )


@pytest.fixture(scope="module")
def reference():
    return build_reference(SMALL, NUM_CLASSES, seed=3, channels=CHANNELS, fc_channels=FC)


@pytest.fixture(scope="module")
def state(reference):
    return reference_state_dict(reference)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).normal(size=(2, HEIGHT, WIDTH, 3)).astype("float32")


@pytest.fixture(scope="module")
def expected(reference, images):
    nchw = np.transpose(images, (0, 3, 1, 2))
    return reference_proposals(reference, nchw, SHAPES), reference_detect(reference, nchw, SHAPES)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("faster_rcnn")


@pytest.fixture(scope="module")
def v2_path(state, folder):
    return _save(state, folder / "faster_rcnn_v2.pth")


@pytest.fixture(scope="module")
def converted(v2_path, expected, folder):
    """The command's `.keras` file of the mmdetection 2.x checkpoint, loaded (after the
    reference has run)."""
    assert main(["convert", str(v2_path), str(folder / "detector.keras")]) == 0
    return keras.saving.load_model(folder / "detector.keras")


def test_the_command_infers_the_whole_detector(converted):
    assert type(converted).__name__ == "FasterRCNN"
    assert converted.num_classes == NUM_CLASSES and converted.fc_channels == FC
    assert converted.rpn_channels == CHANNELS
    assert converted.backbone.name == "hrnetv2p_w18_small_v1"
    up = converted.backbone.get_layer("stage2_module0_fuse_1_to_0_up")
    assert up.interpolation == "nearest"


def test_head_weights_are_laid_out_as_keras_reads_them(converted, state):
    head = converted.roi_head
    weight = state["roi_head.bbox_head.fc_cls.weight"]
    np.testing.assert_array_equal(head.fc_cls.kernel.numpy(), weight.T)  # background last
    rpn_reg = state["rpn_head.rpn_reg.weight"][:, :, 0, 0]
    np.testing.assert_array_equal(converted.rpn_head.rpn_reg.kernel.numpy()[0, 0], rpn_reg.T)
    # The first fc reads a (7, 7, C) RoI: the same numbers as PyTorch's fc on (C, 7, 7).
    pooled = np.random.default_rng(1).normal(size=(5, CHANNELS, 7, 7)).astype("float32")
    fc = "roi_head.bbox_head.shared_fcs.0"
    want = pooled.reshape(5, -1) @ state[f"{fc}.weight"].T + state[f"{fc}.bias"]
    got = head.shared_fc1(np.transpose(pooled, (0, 2, 3, 1)).reshape(5, -1))
    np.testing.assert_allclose(got, np.maximum(want, 0), rtol=1e-5, atol=1e-5)


def test_converted_detector_matches_the_reference(converted, images, expected):
    want_proposals, want_detections = expected
    got = keras_proposals(converted, images, SHAPES)
    assert max(proposal_differences(got, want_proposals)) <= 1e-4
    assert_same_detections(keras_detections(converted, images, SHAPES), want_detections)


def test_mmdet_v1_layout_converts_to_the_same_weights(state, converted, folder):
    v1 = mmdet_v1_state_dict(state)
    assert "bbox_head.fc_reg.weight" in v1 and "neck.fpn_conv.4.weight" in v1
    assert v1["bbox_head.fc_reg.weight"].shape == (4 * (NUM_CLASSES + 1), FC)
    model, report = convert_checkpoint(
        _save(v1, folder / "faster_rcnn_v1.pth"), folder / "detector_v1.keras"
    )
    assert any("mmdetection 1.x" in note for note in report.notes)
    want = {w.path: w.numpy() for w in converted.weights}
    got = {w.path: w.numpy() for w in model.weights}
    assert got.keys() == want.keys()
    for path in want:
        np.testing.assert_array_equal(got[path], want[path], err_msg=path)


def test_strict_loading_names_every_problem(state, folder, capsys):
    broken = dict(state)
    broken["roi_head.bbox_head.fc_extra.weight"] = np.zeros((4, FC), "float32")
    del broken["rpn_head.rpn_reg.bias"]
    broken["roi_head.bbox_head.shared_fcs.1.weight"] = np.zeros((FC, FC + 1), "float32")
    path = _save(broken, folder / "broken.pth")
    before = set(os.listdir(folder))
    assert main(["convert", str(path), str(folder / "broken.keras")]) == 1
    assert set(os.listdir(folder)) == before, "a failed conversion left a file behind"
    err = capsys.readouterr().err
    assert "missing in the checkpoint (1): rpn_head.rpn_reg.bias" in err
    assert "unexpected in the checkpoint (1): roi_head.bbox_head.fc_extra.weight" in err
    assert (
        f"mis-shaped (1): roi_head.bbox_head.shared_fcs.1.weight ({FC}, {FC + 1}) for "
        f"roi_head/shared_fc2/kernel ({FC}, {FC})"
    ) in err
    assert f"Received: path={str(path)!r}" in err


def test_without_a_box_classifier_the_classes_are_unknown(state, folder):
    incomplete = {k: v for k, v in state.items() if "fc_cls" not in k}
    path = _save(incomplete, folder / "no_classifier.pth")
    with pytest.raises(ValueError, match=r"without the box classifier .* model='hrnetv2p'"):
        convert_checkpoint(path, folder / "no_classifier.keras")


def test_backbone_and_neck_of_a_detector_checkpoint(v2_path, converted):
    model = hrnetv2p(SMALL, channels=CHANNELS)
    report = load_torch_weights(model, v2_path)
    assert set(report.ignored) == HEAD_KEYS
    assert any("detector-head tensors" in note for note in report.notes)
    for layer in ("stem_conv1", "v2p_reduction_conv", "v2p_fpn4_conv"):
        np.testing.assert_array_equal(
            model.get_layer(layer).kernel.numpy(),
            converted.backbone.get_layer(layer).kernel.numpy(),
        )


def test_new_classes_and_the_builder_weights_argument(v2_path, converted):
    with pytest.raises(ValueError, match=r"3 classes, but model .* predicts 5"):
        _build(num_classes=5, weights=v2_path)
    model = _build(num_classes=5)
    report = load_torch_weights(model, v2_path, drop_head=True)
    assert report.skipped == ["roi_head/fc_cls", "roi_head/fc_reg"]
    assert tuple(model.roi_head.fc_cls.kernel.shape) == (FC, 6)
    np.testing.assert_array_equal(
        model.roi_head.shared_fc2.kernel.numpy(), converted.roi_head.shared_fc2.kernel.numpy()
    )


def test_head_layouts_are_recognised(state):
    assert canonicalize(state).layout == "faster_rcnn"
    masked = {**state, "roi_head.mask_head.conv_logits.weight": np.zeros((3, 8, 1, 1))}
    checkpoint = canonicalize(masked)
    assert checkpoint.layout == "faster_rcnn"
    assert checkpoint.ignored == ["roi_head.mask_head.conv_logits.weight"]
    assert set(checkpoint.tensors) >= HEAD_KEYS
    # One box head per stage: mmdetection 2.x's Cascade R-CNN converts whole; a cascade in
    # 1.x's layout (no `roi_head.`) is not built here: its backbone and neck convert.
    staged = {k.replace("bbox_head.", "bbox_head.0."): v for k, v in state.items()}
    assert canonicalize(staged).layout == "cascade_rcnn"
    staged = {k.replace("roi_head.", ""): v for k, v in staged.items()}
    checkpoint = canonicalize(staged)
    assert checkpoint.layout == "detection" and len(checkpoint.ignored) == len(HEAD_KEYS)
    both = {**state, "bbox_head.fc_cls.weight": state["roi_head.bbox_head.fc_cls.weight"]}
    with pytest.raises(ValueError, match=r"both mmdetection layouts"):
        canonicalize(both)
