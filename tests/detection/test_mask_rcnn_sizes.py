"""Parameter counts of `mask_rcnn` against mmdetection v2's `mask_rcnn_hrnetv2p` configs,
rebuilt from PyTorch modules."""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

from keras_test_helpers import trainable_parameters  # noqa: E402
from torch import nn  # noqa: E402
from torch_hrnet_reference import HRFPN, timm_branches  # noqa: E402

from hrnet_keras.models import mask_rcnn  # noqa: E402


def mmdet_mask_rcnn_parameters(width, num_classes=80):
    """HRNet + HRFPN + RPNHead + Shared2FCBBoxHead + FCNMaskHead (4 convs, deconv, logits)."""
    branches = timm_branches(width)
    in_channels = sum(width * 2**i for i in range(4))
    modules = [
        HRFPN(branches, in_channels, 256, 5),
        nn.Conv2d(256, 256, 3, padding=1),  # rpn_conv
        nn.Conv2d(256, 3, 1),  # rpn_cls
        nn.Conv2d(256, 12, 1),  # rpn_reg
        nn.Linear(256 * 7 * 7, 1024),  # shared_fcs.0
        nn.Linear(1024, 1024),  # shared_fcs.1
        nn.Linear(1024, num_classes + 1),  # fc_cls
        nn.Linear(1024, 4 * num_classes),  # fc_reg
        *[nn.Conv2d(256, 256, 3, padding=1) for _ in range(4)],  # mask_head.convs
        nn.ConvTranspose2d(256, 256, 2, stride=2),  # mask_head.upsample
        nn.Conv2d(256, num_classes, 1),  # mask_head.conv_logits (class-specific)
    ]
    return sum(p.numel() for m in modules for p in m.parameters())


@pytest.mark.parametrize(
    "width, expected",
    [
        pytest.param(18, 30_125_956, marks=pytest.mark.heavy),
        pytest.param(32, 49_922_992, marks=pytest.mark.heavy),
    ],
)
def test_parameters_equal_mmdet(width, expected):
    assert mmdet_mask_rcnn_parameters(width) == expected
    assert trainable_parameters(mask_rcnn(width=width)) == expected
