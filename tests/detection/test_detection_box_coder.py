"""Box coding against a NumPy transcription of mmdetection v2's DeltaXYWHBBoxCoder."""

import math

import numpy as np

from hrnet_keras.detection.box_coder import MAX_LOG_RATIO, clip_boxes, decode_boxes, encode_boxes

STDS = (0.1, 0.1, 0.2, 0.2)


def random_boxes(rng, count):
    xy = rng.uniform(0, 200, (count, 2))
    wh = rng.uniform(2, 150, (count, 2))
    return np.concatenate([xy, xy + wh], -1).astype("float32")


def mmdet_bbox2delta(proposals, gt, stds):
    px, py = (proposals[:, 0] + proposals[:, 2]) * 0.5, (proposals[:, 1] + proposals[:, 3]) * 0.5
    pw, ph = proposals[:, 2] - proposals[:, 0], proposals[:, 3] - proposals[:, 1]
    gx, gy = (gt[:, 0] + gt[:, 2]) * 0.5, (gt[:, 1] + gt[:, 3]) * 0.5
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    deltas = np.stack([(gx - px) / pw, (gy - py) / ph, np.log(gw / pw), np.log(gh / ph)], -1)
    return deltas / np.array(stds)


def mmdet_delta2bbox(rois, deltas, stds, max_shape):
    deltas = deltas * np.array(stds)
    dx, dy, dw, dh = deltas.T
    max_ratio = abs(np.log(16 / 1000))
    dw, dh = np.clip(dw, -max_ratio, max_ratio), np.clip(dh, -max_ratio, max_ratio)
    px, py = (rois[:, 0] + rois[:, 2]) * 0.5, (rois[:, 1] + rois[:, 3]) * 0.5
    pw, ph = rois[:, 2] - rois[:, 0], rois[:, 3] - rois[:, 1]
    gw, gh = pw * np.exp(dw), ph * np.exp(dh)
    gx, gy = px + pw * dx, py + ph * dy
    boxes = np.stack([gx - gw * 0.5, gy - gh * 0.5, gx + gw * 0.5, gy + gh * 0.5], -1)
    height, width = max_shape
    return np.stack(
        [
            boxes[:, 0].clip(0, width),
            boxes[:, 1].clip(0, height),
            boxes[:, 2].clip(0, width),
            boxes[:, 3].clip(0, height),
        ],
        -1,
    )


def test_encode_matches_mmdet():
    rng = np.random.default_rng(0)
    anchors, boxes = random_boxes(rng, 50), random_boxes(rng, 50)
    np.testing.assert_allclose(
        np.asarray(encode_boxes(anchors, boxes, STDS)),
        mmdet_bbox2delta(anchors, boxes, STDS),
        rtol=1e-4,
        atol=1e-4,
    )


def test_round_trip_and_batched_broadcast():
    rng = np.random.default_rng(1)
    anchors, boxes = random_boxes(rng, 30), random_boxes(rng, 60).reshape(2, 30, 4)
    deltas = encode_boxes(anchors, boxes, STDS)
    assert tuple(deltas.shape) == (2, 30, 4)
    np.testing.assert_allclose(np.asarray(decode_boxes(anchors, deltas, STDS)), boxes, atol=1e-3)


def test_decode_clamps_and_clips_like_mmdet():
    rng = np.random.default_rng(2)
    rois = random_boxes(rng, 40)
    deltas = rng.normal(0, 30, (40, 4)).astype("float32")  # far beyond the clamp
    ours = clip_boxes(decode_boxes(rois[None], deltas[None], STDS), np.array([[120, 160]]))
    np.testing.assert_allclose(
        np.asarray(ours)[0], mmdet_delta2bbox(rois, deltas, STDS, (120, 160)), rtol=1e-4, atol=1e-3
    )


def test_clamp_bounds_growth():
    assert math.isclose(MAX_LOG_RATIO, math.log(1000 / 16))
    box = np.asarray(decode_boxes(np.array([[0.0, 0, 16, 16]]), np.array([[0.0, 0, 50, -50]])))
    width, height = box[0, 2] - box[0, 0], box[0, 3] - box[0, 1]
    np.testing.assert_allclose([width, height], [1000.0, 16 * 16 / 1000], rtol=1e-4)
    assert np.isfinite(box).all()
