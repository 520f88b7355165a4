"""Parameter counts of `cascade_mask_rcnn` against mmdetection v2's
`cascade_mask_rcnn_hrnetv2p_w*_20e` configs, rebuilt from PyTorch modules, and its presets rows."""

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

from detection_helpers import tiny_pyramid  # noqa: E402
from keras_test_helpers import trainable_parameters  # noqa: E402
from torch import nn  # noqa: E402
from torch_hrnet_reference import HRFPN  # noqa: E402

from hrnet_keras.detection import CascadeMaskRCNN  # noqa: E402
from hrnet_keras.models import cascade_mask_rcnn  # noqa: E402
from hrnet_keras.models.presets import PRESETS  # noqa: E402


def mmdet_cascade_mask_heads(num_classes=80, channels=256, fc=1024, mask=256):
    """RPNHead (3 anchors), then per stage a class-agnostic Shared2FCBBoxHead (7x7) and an
    FCNMaskHead (4 convs, deconv, class-specific logits): the `roi_head` of mmdetection's
    `cascade_mask_rcnn_r50_fpn` (three stages, `mask_head` repeated per stage)."""
    modules = [
        nn.Conv2d(channels, channels, 3, padding=1),  # rpn_conv
        nn.Conv2d(channels, 3, 1),  # rpn_cls
        nn.Conv2d(channels, 12, 1),  # rpn_reg
    ]
    for _ in range(3):  # roi_head.bbox_head.{i}, roi_head.mask_head.{i}
        modules += [
            nn.Linear(channels * 7 * 7, fc),  # shared_fcs.0
            nn.Linear(fc, fc),  # shared_fcs.1
            nn.Linear(fc, num_classes + 1),  # fc_cls
            nn.Linear(fc, 4),  # fc_reg (reg_class_agnostic)
            *[nn.Conv2d(channels if i == 0 else mask, mask, 3, padding=1) for i in range(4)],
            nn.ConvTranspose2d(mask, mask, 2, stride=2),  # upsample
            nn.Conv2d(mask, num_classes, 1),  # conv_logits
        ]
    return sum(p.numel() for m in modules for p in m.parameters())


def mmdet_cascade_mask_rcnn_parameters(width, num_classes=80):
    """HRNet (timm's, the same modules) + HRFPN (256, 5 levels) + the heads."""
    branches = timm.create_model(
        f"hrnet_w{width}", features_only=True, feature_location="", out_indices=(1, 2, 3, 4)
    )
    in_channels = sum(width * 2**i for i in range(4))
    neck = HRFPN(branches, in_channels, 256, 5)
    return sum(p.numel() for p in neck.parameters()) + mmdet_cascade_mask_heads(num_classes)


def _head_parameters(model):
    heads = [model.rpn_head, *model.roi_heads, *model.mask_heads]
    return sum(trainable_parameters(head) for head in heads)


def test_heads_equal_mmdet_at_small_and_full_size():
    small = CascadeMaskRCNN(tiny_pyramid(8), 3, rpn_channels=8, fc_channels=16, mask_channels=4)
    assert _head_parameters(small) == mmdet_cascade_mask_heads(3, 8, 16, 4)
    full = CascadeMaskRCNN(tiny_pyramid(256), 80)
    assert _head_parameters(full) == mmdet_cascade_mask_heads() == 50_472_190


@pytest.mark.heavy
@pytest.mark.parametrize("width, expected", [(18, 63_054_226), (32, 82_851_262), (40, 99_097_662)])
def test_parameters_equal_mmdet(width, expected):
    assert mmdet_cascade_mask_rcnn_parameters(width) == expected
    assert trainable_parameters(cascade_mask_rcnn(width=width)) == expected


def test_presets_list_the_cascade_mask_detectors():
    rows = {p.name: p for p in PRESETS if p.family.kind == "cascade_mask_rcnn"}
    assert sorted(rows) == [f"cascade_mask_rcnn_hrnetv2p_w{w}_20e_coco" for w in (18, 32, 40)]
    assert {p.num_classes for p in rows.values()} == {80}
    assert all(p.checkpoint.startswith(p.name) for p in rows.values())
    assert rows["cascade_mask_rcnn_hrnetv2p_w18_20e_coco"].note.endswith("mask AP 36.4")
    assert rows["cascade_mask_rcnn_hrnetv2p_w40_20e_coco"].family.builder_name == (
        "cascade_mask_rcnn"
    )
