"""Training steps of each detector compiled by XLA (on the CPU here): Faster R-CNN, Mask R-CNN
and Cascade R-CNN, tiny, with finite losses; Mask and Cascade R-CNN's first step also equals
the same step traced without XLA (`heavy`: two traces and an XLA compilation, minutes)."""

import keras
import numpy as np
import pytest
from detection_helpers import synthetic_batch, tiny_pyramid

from hrnet_keras.detection import CascadeRCNN, FasterRCNN, MaskRCNN
from hrnet_keras.detection.faster_rcnn import LOSS_NAMES
from hrnet_keras.detection.mask_grids import mask_grid
from hrnet_keras.detection.mask_rcnn import MASK_LOSS_NAMES

SMALL = {
    "fc_channels": 32,
    "train_pre_nms_top_k": 300,
    "max_proposals": 100,
    "rcnn_num_samples": 64,
    "seed": 1,
}


def _xla_steps(model, images, targets):
    model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=True)
    first = model.train_on_batch(images, targets, return_dict=True)
    second = model.train_on_batch(images, targets, return_dict=True)
    for result in (first, second):
        assert set(result) == {"loss", *model.loss_names}
        assert all(np.isfinite(v) for v in result.values()), result
    return first, second


@pytest.mark.slow
def test_train_step_compiles_with_xla():
    keras.utils.set_random_seed(0)
    images, targets = synthetic_batch(seed=0, batch=2, size=(64, 96))
    model = FasterRCNN(tiny_pyramid(), 3, **SMALL)
    first, _ = _xla_steps(model, images, targets)
    assert set(first) == {"loss", *LOSS_NAMES}
    assert first["rpn_cls"] == pytest.approx(np.log(2), abs=0.05)


def _with_masks(images, targets, grid=16):
    """Each instance an ellipse inside its box, as the detection pipeline carries masks."""
    batch, count = targets["labels"].shape
    masks = np.zeros((batch, count, grid, grid), np.uint8)
    regions = np.zeros((batch, count, 4), np.float32)
    yy, xx = np.mgrid[: images.shape[1], : images.shape[2]] + 0.5
    for b in range(batch):
        for m in range(count):
            if targets["labels"][b, m] < 0:
                continue
            x1, y1, x2, y2 = targets["boxes"][b, m]
            inside = ((xx - (x1 + x2) / 2) / ((x2 - x1) / 2)) ** 2 + (
                (yy - (y1 + y2) / 2) / ((y2 - y1) / 2)
            ) ** 2 <= 1
            masks[b, m], regions[b, m] = mask_grid(inside, (x1, y1, x2, y2), grid=grid)
    return {**targets, "masks": masks, "mask_boxes": regions}


def _same_first_step_without_xla(build, targets, compiled):
    """The first step of the same detector (same seed) traced without XLA: the same losses."""
    keras.utils.set_random_seed(0)
    model = build()
    model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
    images, _ = synthetic_batch(seed=0, batch=2, size=(64, 96))
    plain = model.train_on_batch(images, targets, return_dict=True)
    # The same anchors and RoIs sampled: only XLA's fused float arithmetic differs, which
    # moved the total by 1.4e-4 (Mask) and 4e-4 (Cascade) relative (measured). Another
    # sample would move the box and mask losses by percents.
    # Below 1, the gap is bounded absolutely (small box losses carry the same rounding).
    gaps = {n: abs(v - plain[n]) / max(abs(plain[n]), 1.0) for n, v in compiled.items()}
    assert max(gaps.values()) < 2e-3, gaps


def _mask_rcnn():
    return MaskRCNN(tiny_pyramid(), 3, mask_channels=8, **SMALL)


def _cascade_rcnn():
    return CascadeRCNN(tiny_pyramid(), 3, train_max_proposals=100, **SMALL)


@pytest.mark.heavy
def test_mask_rcnn_train_step_compiles_with_xla():
    keras.utils.set_random_seed(0)
    images, targets = synthetic_batch(seed=0, batch=2, size=(64, 96))
    targets = _with_masks(images, targets)
    first, _ = _xla_steps(_mask_rcnn(), images, targets)
    assert set(first) == {"loss", *MASK_LOSS_NAMES} and first["rcnn_mask"] > 0
    _same_first_step_without_xla(_mask_rcnn, targets, first)


@pytest.mark.heavy
def test_cascade_rcnn_train_step_compiles_with_xla():
    keras.utils.set_random_seed(0)
    images, targets = synthetic_batch(seed=0, batch=2, size=(64, 96))
    first, _ = _xla_steps(_cascade_rcnn(), images, targets)
    assert len(first) == 9 and {"s0_cls", "s2_bbox"} <= set(first)
    _same_first_step_without_xla(_cascade_rcnn, targets, first)
