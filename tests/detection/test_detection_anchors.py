"""Anchors against a NumPy transcription of mmdetection v2's AnchorGenerator."""

import numpy as np
import pytest

from hrnet_keras.detection.anchors import (
    base_anchors,
    level_anchors,
    level_valid_flags,
    multilevel_anchors,
)


def mmdet_level_anchors(feat_h, feat_w, stride, scales=(8.0,), ratios=(0.5, 1.0, 2.0)):
    """gen_single_level_base_anchors (centre offset 0, scale_major) + grid_priors."""
    w = h = float(stride)
    x_center, y_center = 0.0 * w, 0.0 * h
    h_ratios = np.sqrt(np.array(ratios))
    w_ratios = 1 / h_ratios
    ws = (w * w_ratios[:, None] * np.array(scales)[None, :]).reshape(-1)
    hs = (h * h_ratios[:, None] * np.array(scales)[None, :]).reshape(-1)
    base = np.stack(
        [x_center - 0.5 * ws, y_center - 0.5 * hs, x_center + 0.5 * ws, y_center + 0.5 * hs], -1
    )
    shift_x = np.arange(0, feat_w) * stride
    shift_y = np.arange(0, feat_h) * stride
    xx = np.tile(shift_x, len(shift_y))
    yy = np.repeat(shift_y, len(shift_x))
    shifts = np.stack([xx, yy, xx, yy], -1)
    return (base[None, :, :] + shifts[:, None, :]).reshape(-1, 4)


@pytest.mark.parametrize("stride", [4, 8, 16, 32, 64])
def test_level_anchors_match_mmdet(stride):
    anchors = np.asarray(level_anchors(3, 5, stride))
    np.testing.assert_allclose(anchors, mmdet_level_anchors(3, 5, stride), rtol=1e-6)


def test_base_anchors_ratio_major_with_two_scales():
    anchors = base_anchors(16, scales=(4.0, 8.0), ratios=(0.5, 2.0))
    expected = mmdet_level_anchors(1, 1, 16, scales=(4.0, 8.0), ratios=(0.5, 2.0))
    np.testing.assert_allclose(anchors, expected, rtol=1e-6)
    widths = anchors[:, 2] - anchors[:, 0]
    heights = anchors[:, 3] - anchors[:, 1]
    np.testing.assert_allclose(heights / widths, [0.5, 0.5, 2.0, 2.0], rtol=1e-6)
    # Area (stride * scale)^2, not rounded.
    np.testing.assert_allclose(widths * heights, [64**2, 128**2, 64**2, 128**2], rtol=1e-5)


def test_multilevel_layout_matches_head_reshape():
    sizes = [(4, 6), (2, 3)]
    levels = multilevel_anchors(sizes, strides=(4, 8))
    assert [tuple(a.shape) for a in levels] == [(72, 4), (18, 4)]
    # Row (y * W + x) * A + a is anchor a of location (y, x): its centre is (x, y) * stride.
    anchors = np.asarray(levels[0]).reshape(4, 6, 3, 4)
    centres = (anchors[..., :2] + anchors[..., 2:]) / 2
    np.testing.assert_allclose(centres[2, 5, 1], [20.0, 8.0])
    with pytest.raises(ValueError, match="Received: feature_sizes"):
        multilevel_anchors(sizes, strides=(4,))


def test_valid_flags_mark_the_padded_image():
    # Image 1 is 40 x 24 pixels on a 64 x 64 batch: padded to 64 x 32 (divisor 32).
    flags = np.asarray(
        level_valid_flags(4, 4, 16, np.array([64.0, 64.0]), np.array([64.0, 32.0]), 3)
    )
    assert flags.shape == (2, 48)
    assert flags[0].all()
    grid = flags[1].reshape(4, 4, 3)
    assert grid[:, :2].all() and not grid[:, 2:].any()
