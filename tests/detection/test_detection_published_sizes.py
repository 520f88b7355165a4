"""Parameter counts of `faster_rcnn` against mmdetection v2's config, rebuilt in PyTorch."""

import pytest
from keras_test_helpers import trainable_parameters
from torch import nn
from torch_hrnet_reference import HRFPN, timm_branches

from hrnet_keras.models import faster_rcnn


def mmdet_faster_rcnn_parameters(width, num_classes=80):
    """HRNet + HRFPN (256, 5 levels) + RPNHead (3 anchors) + Shared2FCBBoxHead (7x7, 1024)."""
    branches = timm_branches(width)
    in_channels = sum(width * 2**i for i in range(4))
    modules = [
        HRFPN(branches, in_channels, 256, 5),
        nn.Conv2d(256, 256, 3, padding=1),  # rpn_conv
        nn.Conv2d(256, 3, 1),  # rpn_cls (sigmoid: one score an anchor)
        nn.Conv2d(256, 12, 1),  # rpn_reg
        nn.Linear(256 * 7 * 7, 1024),  # shared_fcs.0
        nn.Linear(1024, 1024),  # shared_fcs.1
        nn.Linear(1024, num_classes + 1),  # fc_cls
        nn.Linear(1024, 4 * num_classes),  # fc_reg (class-specific)
    ]
    return sum(p.numel() for m in modules for p in m.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("width, expected", [(18, 27_482_676), (32, 47_279_712)])
def test_parameters_equal_mmdet(width, expected):
    assert mmdet_faster_rcnn_parameters(width) == expected
    assert trainable_parameters(faster_rcnn(width=width)) == expected


@pytest.mark.heavy
@pytest.mark.parametrize("width, published", [(18, 26.2), (32, 45.0), (40, 60.5), (48, 79.4)])
def test_published_sizes_are_truncated_mebi_counts(width, published):
    # The HRNet detection README lists parameters in 2^20 units, cut (not rounded) to one
    # decimal: 27,482,676 / 2^20 = 26.21 -> 26.2, but 47,279,712 / 2^20 = 45.09 -> 45.0.
    mebi = trainable_parameters(faster_rcnn(width=width)) / 2**20
    assert int(mebi * 10) / 10 == pytest.approx(published)
