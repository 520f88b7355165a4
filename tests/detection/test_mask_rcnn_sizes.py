"""Parameter counts of `mask_rcnn` against mmdetection v2's `mask_rcnn_hrnetv2p` configs,
rebuilt from PyTorch modules; the presets and recipes against mmdetection's HRNet table."""

import pathlib

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

from keras_test_helpers import trainable_parameters  # noqa: E402
from torch import nn  # noqa: E402
from torch_hrnet_reference import HRFPN  # noqa: E402

from hrnet_keras.models import mask_rcnn  # noqa: E402
from hrnet_keras.models.presets import PRESETS  # noqa: E402
from hrnet_keras.training import load_recipe  # noqa: E402

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"


def mmdet_mask_rcnn_parameters(width, num_classes=80):
    """HRNet + HRFPN + RPNHead + Shared2FCBBoxHead + FCNMaskHead (4 convs, deconv, logits)."""
    # timm's HRNet without its classification layers is mmdetection's `HRNet` backbone.
    branches = timm.create_model(
        f"hrnet_w{width}", features_only=True, feature_location="", out_indices=(1, 2, 3, 4)
    )
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
        # Faster R-CNN W40's 63,526,112 (the README's truncated 60.5 MiB) + the mask head.
        pytest.param(40, 66_169_392, marks=pytest.mark.heavy),
    ],
)
def test_parameters_equal_mmdet(width, expected):
    assert mmdet_mask_rcnn_parameters(width) == expected
    assert trainable_parameters(mask_rcnn(width=width)) == expected


def test_presets_and_recipes_are_mmdetections_mask_rcnns():
    # configs/hrnet/README.md of mmdetection v2: box AP, mask AP and the checkpoint file of
    # each width and schedule; 1x drops the rate after epochs 8 and 11 of 12, 2x after 16
    # and 22 of 24.
    rows = {p.name: p for p in PRESETS if p.family.kind == "mask_rcnn"}
    names = [f"mask_rcnn_hrnetv2p_w{w}_{s}_coco" for w in (18, 32, 40) for s in ("1x", "2x")]
    assert sorted(rows) == names
    assert rows["mask_rcnn_hrnetv2p_w40_2x_coco"].checkpoint == (
        "mask_rcnn_hrnetv2p_w40_2x_coco_20200512_163732-aed5e4ab.pth"
    )
    assert "box AP 39.8, mask AP 36.0" in rows["mask_rcnn_hrnetv2p_w18_2x_coco"].note
    schedules = {"1x": (12, (8, 11)), "2x": (24, (16, 22))}
    for name, row in rows.items():
        assert row.checkpoint.startswith(name) and row.num_classes == 80
        assert row.family.builder_name == "mask_rcnn"
        width, schedule = row.width, name.split("_")[-2]
        recipe = load_recipe(RECIPES / f"coco_{name.removesuffix('_coco')}.py")
        assert recipe.model.width == width and recipe.model.builder == "mask_rcnn"
        epochs, boundaries = schedules[schedule]
        assert (recipe.runtime.epochs, recipe.optimizer.boundaries) == (epochs, boundaries)
        assert recipe.runtime.global_batch_size == 16 and recipe.optimizer.learning_rate == 0.02
