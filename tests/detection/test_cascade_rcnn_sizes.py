"""Parameter counts of `cascade_rcnn` against mmdetection v2's config, rebuilt in PyTorch."""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

from keras_test_helpers import trainable_parameters  # noqa: E402
from torch import nn  # noqa: E402
from torch_hrnet_reference import HRFPN, timm_branches  # noqa: E402

from hrnet_keras.models import cascade_rcnn  # noqa: E402
from hrnet_keras.models.presets import PRESETS  # noqa: E402


def mmdet_cascade_rcnn_parameters(width, num_classes=80):
    """HRNet + HRFPN (256, 5 levels) + RPNHead (3 anchors) + 3 class-agnostic
    Shared2FCBBoxHeads (7x7, 1024): mmdetection's `cascade_rcnn_hrnetv2p_w*_20e`."""
    branches = timm_branches(width)
    in_channels = sum(width * 2**i for i in range(4))
    modules = [
        HRFPN(branches, in_channels, 256, 5),
        nn.Conv2d(256, 256, 3, padding=1),  # rpn_conv
        nn.Conv2d(256, 3, 1),  # rpn_cls
        nn.Conv2d(256, 12, 1),  # rpn_reg
    ]
    for _ in range(3):  # roi_head.bbox_head.{0,1,2}
        modules += [
            nn.Linear(256 * 7 * 7, 1024),  # shared_fcs.0
            nn.Linear(1024, 1024),  # shared_fcs.1
            nn.Linear(1024, num_classes + 1),  # fc_cls
            nn.Linear(1024, 4),  # fc_reg (reg_class_agnostic)
        ]
    return sum(p.numel() for m in modules for p in m.parameters())


@pytest.mark.heavy
@pytest.mark.parametrize("width, expected", [(18, 55_124_386), (32, 74_921_422), (40, 91_167_822)])
def test_parameters_equal_mmdet(width, expected):
    assert mmdet_cascade_rcnn_parameters(width) == expected
    assert trainable_parameters(cascade_rcnn(width=width)) == expected


def test_presets_list_the_cascade_detectors():
    rows = {p.name: p for p in PRESETS if p.family.kind == "cascade_rcnn"}
    assert sorted(rows) == [f"cascade_rcnn_hrnetv2p_w{w}_20e_coco" for w in (18, 32, 40)]
    assert {p.num_classes for p in rows.values()} == {80}
    assert all(p.checkpoint.startswith(p.name) for p in rows.values())
    assert rows["cascade_rcnn_hrnetv2p_w32_20e_coco"].family.builder_name == "cascade_rcnn"
