"""Comparing a Keras `FasterRCNN` with the PyTorch reference (`torch_faster_rcnn_reference`):
proposals and detections, image by image, as the largest differences measured. Boxes are
paired with their nearest counterpart rather than by rank, as NMS may order boxes of equal
score either way."""

import numpy as np

# Boxes: largest coordinate difference over the largest coordinate; scores: absolute.
BOX_TOLERANCE = 1e-3
SCORE_TOLERANCE = 1e-4


def keras_inputs(images, shapes):
    """The detector's input dict for NHWC `images` and their unpadded `(h, w)` sizes."""
    return {"images": np.asarray(images, "float32"), "image_shape": np.asarray(shapes, "float32")}


def keras_proposals(model, images, shapes):
    """The RPN's proposals of each image at inference, `(n_i, 4)` arrays."""
    first = model._first_stage(keras_inputs(images, shapes), training=False)
    boxes, valid = np.asarray(first["proposals"]), np.asarray(first["proposal_valid"])
    return [b[v] for b, v in zip(boxes, valid)]


def keras_detections(model, images, shapes, predict=False):
    """The detections of each image, as `reference_detect` returns them; from a call, or
    from `model.predict` (a graph, one batch)."""
    inputs = keras_inputs(images, shapes)
    out = model.predict(inputs, batch_size=len(images), verbose=0) if predict else model(inputs)
    out = {k: np.asarray(v) for k, v in out.items()}
    return [
        {
            "boxes": out["boxes"][i, :n],
            "scores": out["scores"][i, :n],
            "labels": out["labels"][i, :n],
        }
        for i, n in enumerate(out["num_detections"])
    ]


def _scale(boxes):
    return max(float(np.abs(boxes).max()), 1.0) if boxes.size else 1.0


def match_boxes(got, want, got_labels=None, want_labels=None):
    """Pairs the boxes of `got` one to one with those of `want`, minimising the summed
    largest coordinate differences (boxes of other labels do not pair).

    Order aside: boxes of (nearly) equal score may come out of NMS in either order, and
    clipping can make boxes of two levels equal.

    Returns:
        `(index, distances)`: `want[index[i]]` pairs with `got[i]` at `distances[i]`.
    """
    from scipy.optimize import linear_sum_assignment

    got, want = np.asarray(got, "float64"), np.asarray(want, "float64")
    assert got.shape == want.shape, (got.shape, want.shape)
    if not len(want):
        return np.zeros(0, int), np.zeros(0)
    distance = np.abs(got[:, None, :] - want[None, :, :]).max(-1)
    if got_labels is not None:
        other = got_labels[:, None] != want_labels[None, :]
        distance = np.where(other, distance + 1e9, distance)
    rows, index = linear_sum_assignment(distance)
    assert np.array_equal(rows, np.arange(len(got)))
    pairs = distance[rows, index]
    assert pairs.max() < 1e9, "the labels differ"
    return index, pairs


def proposal_differences(got, want):
    """Per image, the largest difference of paired proposals over the largest coordinate."""
    assert [len(p) for p in got] == [len(p) for p in want]
    return [float(match_boxes(g, w)[1].max(initial=0) / _scale(w)) for g, w in zip(got, want)]


def detection_differences(got, want):
    """Per image `(box difference, score difference)` of paired detections (same label);
    the counts and the labels (as multisets) must be equal."""
    differences = []
    for image, (g, w) in enumerate(zip(got, want)):
        assert len(g["scores"]) == len(w["scores"]), (image, len(g["scores"]), len(w["scores"]))
        index, distance = match_boxes(g["boxes"], w["boxes"], g["labels"], w["labels"])
        scores = np.abs(g["scores"] - w["scores"][index]).max(initial=0)
        differences.append((float(distance.max(initial=0) / _scale(w["boxes"])), float(scores)))
    return differences


def assert_same_detections(got, want):
    """Same counts and labels, boxes and scores within the tolerances; returns the largest
    `(box, score)` differences over the images."""
    assert sum(len(w["scores"]) for w in want) > 0, "no detections to compare"
    differences = detection_differences(got, want)
    boxes = max(d[0] for d in differences)
    scores = max(d[1] for d in differences)
    assert boxes <= BOX_TOLERANCE and scores <= SCORE_TOLERANCE, differences
    return boxes, scores
