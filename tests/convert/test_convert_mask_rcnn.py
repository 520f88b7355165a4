"""Converting mmdetection's Mask R-CNN checkpoints: the mask head's keys (2.x and 1.x) into
`FCNMaskHead`, strictly; a Faster R-CNN model takes such a checkpoint without its masks."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("timm")

import keras  # noqa: E402
from torch_hrnet_reference import single_threaded_torch  # noqa: E402, F401
from torch_mask_rcnn_reference import build_mask_reference, mask_state_dict  # noqa: E402

from hrnet_keras.cli import main  # noqa: E402
from hrnet_keras.convert.detector_heads import (  # noqa: E402
    head_assignments,
    split_detector_heads,
)
from hrnet_keras.detection import FasterRCNN, FCNMaskHead, MaskRCNN  # noqa: E402
from hrnet_keras.detection.roi_head import RoIBoxHead  # noqa: E402
from hrnet_keras.detection.rpn import RPNHead  # noqa: E402

NUM_CLASSES, CHANNELS, FC, MASK = 3, 16, 32, 8


def _mask_tensors(rng, channels=4, mask=6, classes=NUM_CLASSES):
    tensors = {}
    for i in range(4):
        tensors[f"roi_head.mask_head.convs.{i}.conv.weight"] = rng.normal(
            size=(mask, channels if i == 0 else mask, 3, 3)
        )
        tensors[f"roi_head.mask_head.convs.{i}.conv.bias"] = rng.normal(size=mask)
    tensors["roi_head.mask_head.upsample.weight"] = rng.normal(size=(mask, mask, 2, 2))
    tensors["roi_head.mask_head.upsample.bias"] = rng.normal(size=mask)
    tensors["roi_head.mask_head.conv_logits.weight"] = rng.normal(size=(classes, mask, 1, 1))
    tensors["roi_head.mask_head.conv_logits.bias"] = rng.normal(size=classes)
    return tensors


def test_mask_head_tensors_fill_the_keras_layers():
    rng = np.random.default_rng(0)
    masks = _mask_tensors(rng)
    # mmdetection 1.x names the mask head `mask_head.*` (no `roi_head.`); its extractor has
    # no weights.
    v1 = {k[len("roi_head.") :]: v for k, v in masks.items()}
    v1["mask_roi_extractor.roi_layers.0.weight_free"] = np.zeros(1)
    _, heads = split_detector_heads({**v1, "rpn_head.rpn_conv.weight": np.zeros((4, 4, 3, 3))})
    assert sorted(k for k in heads.tensors if "mask" in k) == sorted(masks)
    head = FCNMaskHead(NUM_CLASSES, conv_channels=6, name="mask_head")
    head.build(([(None, None, None, 4)] * 4, (None, None, 4)))
    rpn, box = RPNHead(3, 4, name="rpn_head"), RoIBoxHead(NUM_CLASSES, fc_channels=8)
    rpn.build([(None, None, None, 4)] * 5)
    box.build(([(None, None, None, 4)] * 4, (None, None, 4)))
    fill = head_assignments(rpn, box, heads.tensors, mask_head=head)
    assert not fill.mismatched
    assert set(masks) <= fill.used
    for variable, array in fill.assignments:
        variable.assign(array)
    # The transposed conv: PyTorch's (in, out, kh, kw) to Keras' (kh, kw, out, in), with no
    # flip: both scatter input pixel (i, j) to output (2i + a, 2j + b) with weight [a, b].
    x = rng.normal(size=(1, 3, 3, 6)).astype("float32")
    want = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(np.transpose(x, (0, 3, 1, 2))),
        torch.from_numpy(masks["roi_head.mask_head.upsample.weight"]).float(),
        torch.from_numpy(masks["roi_head.mask_head.upsample.bias"]).float(),
        stride=2,
    ).numpy()
    got = np.asarray(head.upsample(x))  # with its ReLU
    np.testing.assert_allclose(np.transpose(got, (0, 3, 1, 2)), np.maximum(want, 0), atol=1e-5)
    fill = head_assignments(rpn, box, heads.tensors, mask_head=head, drop_head=True)
    assert "mask_head/conv_logits" in fill.skipped
    missing = {k: v for k, v in heads.tensors.items() if "upsample.bias" not in k}
    fill = head_assignments(rpn, box, missing, mask_head=head)
    assert "roi_head.mask_head.upsample.bias" in fill.missing


@pytest.mark.heavy
def test_the_command_converts_a_mask_rcnn_checkpoint(tmp_path):
    reference = build_mask_reference(
        "18-small-v1", NUM_CLASSES, seed=3, channels=CHANNELS, fc_channels=FC, mask_channels=MASK
    )
    state = {k: torch.from_numpy(v) for k, v in mask_state_dict(reference).items()}
    torch.save({"state_dict": state}, tmp_path / "mask.pth")
    assert main(["convert", str(tmp_path / "mask.pth"), str(tmp_path / "mask.keras")]) == 0
    model = keras.saving.load_model(tmp_path / "mask.keras")
    assert isinstance(model, MaskRCNN) and model.mask_channels == MASK
    np.testing.assert_array_equal(
        model.mask_head.conv_logits.kernel.numpy()[0, 0],
        state["roi_head.mask_head.conv_logits.weight"].numpy()[:, :, 0, 0].T,
    )
    argv = ["convert", str(tmp_path / "mask.pth"), str(tmp_path / "box.keras")]
    assert main([*argv, "--model", "faster_rcnn"]) == 0
    boxes = keras.saving.load_model(tmp_path / "box.keras")
    assert type(boxes) is FasterRCNN
    # Strict: a missing mask tensor is named.
    del state["roi_head.mask_head.convs.2.conv.bias"]
    torch.save({"state_dict": state}, tmp_path / "broken.pth")
    assert main(["convert", str(tmp_path / "broken.pth"), str(tmp_path / "broken.keras")]) != 0
