"""Greedy non-maximum suppression with static, padded outputs (torchvision's semantics).

Built on TensorFlow's `NonMaxSuppressionV4`, which has an XLA kernel and is a TFLite
builtin (`combined_non_max_suppression` and V5 have neither; `non_max_suppression_padded`
suppresses at `IoU >= threshold` and drops zero-area boxes, unlike torchvision). Boxes are
xyxy: IoU is symmetric in the two axes, so they go to the op's yxyx slots unchanged.

Three quirks of the op shape the code: its XLA kernel needs at least `max_output_size`
boxes and crashes on zero boxes, so every call appends `max_output_size` padding rows
(score `-inf`, never selected); past the valid count XLA fills indices with arbitrary rows,
so padded output rows are set to index 0 here; and XLA orders equal scores arbitrarily, so
the boxes are sorted here (stably) and the op only sees distinct ranks.
"""

import tensorflow as tf
from keras import ops

NEG_INF = float("-inf")


def _check(iou_threshold, max_output_size):
    if (
        isinstance(max_output_size, bool)
        or not isinstance(max_output_size, int)
        or max_output_size < 1
    ):
        raise ValueError(
            "`max_output_size` must be a positive int. "
            f"Received: max_output_size={max_output_size!r}"
        )
    if not 0.0 <= float(iou_threshold) <= 1.0:
        raise ValueError(
            f"`iou_threshold` must be in [0, 1]. Received: iou_threshold={iou_threshold!r}"
        )


def _sanitize(boxes, scores):
    boxes = tf.cast(boxes, tf.float32)
    scores = tf.cast(scores, tf.float32)
    # NaN scores would make the order undefined; NaN boxes would make IoU undefined.
    scores = tf.where(tf.math.is_nan(scores), NEG_INF, scores)
    boxes = tf.where(tf.math.is_finite(boxes), boxes, 0.0)
    return boxes, scores


def _nms_single(boxes, scores, iou_threshold, max_output_size, score_threshold):
    # XLA's kernel orders equal scores arbitrarily; sorting here (stable, so the lower index
    # first, as torchvision's sort) and handing the op distinct ranks makes ties
    # deterministic and the same everywhere.
    order = tf.argsort(scores, direction="DESCENDING", stable=True)
    count = tf.shape(scores)[0]
    ranks = tf.cast(count - tf.range(count), tf.float32)
    ranks = tf.where(tf.gather(scores, order) > score_threshold, ranks, NEG_INF)
    padding = max_output_size
    boxes = tf.concat([tf.gather(boxes, order), tf.zeros((padding, 4), boxes.dtype)], axis=0)
    ranks = tf.concat([ranks, tf.fill([padding], NEG_INF)], axis=0)
    selected, num_valid = tf.raw_ops.NonMaxSuppressionV4(
        boxes=boxes,
        scores=ranks,
        max_output_size=max_output_size,
        iou_threshold=float(iou_threshold),
        score_threshold=NEG_INF,
        pad_to_max_output_size=True,
    )
    valid = tf.range(max_output_size) < num_valid
    # Padding rows may point past `order`: clip before the gather, then set them to 0.
    selected = tf.minimum(tf.where(valid, selected, 0), tf.maximum(count - 1, 0))
    indices = tf.gather(tf.concat([order, [0]], axis=0), selected)
    return tf.where(valid, indices, 0), valid


def nms(boxes, scores, iou_threshold, max_output_size, score_threshold=NEG_INF):
    """Greedy NMS of one image, as `torchvision.ops.nms`, with a padded static output.

    Keeps boxes in descending score order, suppressing any box whose IoU with a kept one is
    greater than `iou_threshold`. Boxes with `score <= score_threshold` (by default: score
    `-inf`, that is padding rows) are never kept. Ties in score keep the lower index first.

    Args:
        boxes: `(N, 4)` xyxy boxes.
        scores: `(N,)` scores.
        iou_threshold: IoU above which a box is suppressed.
        max_output_size: number of output rows.
        score_threshold: boxes need a score above it.

    Returns:
        `(indices, valid)`: `(max_output_size,)` int32 indices into N by descending score
        (padding rows index 0) and `(max_output_size,)` bool.

    Example:
    >>> import numpy as np
    >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], "float32")
    >>> scores = np.array([0.9, 0.8, 0.7], "float32")
    >>> indices, valid = nms(boxes, scores, iou_threshold=0.5, max_output_size=4)
    >>> np.asarray(indices).tolist(), np.asarray(valid).tolist()
    ([0, 2, 0, 0], [True, True, False, False])
    """
    _check(iou_threshold, max_output_size)
    boxes, scores = _sanitize(boxes, scores)
    return _nms_single(boxes, scores, iou_threshold, max_output_size, score_threshold)


def batched_nms(boxes, scores, groups, iou_threshold, max_output_size, score_threshold=NEG_INF):
    """NMS within each group (class or level) of each image, as `torchvision.ops.batched_nms`.

    Groups are kept apart as torchvision does: each box is shifted by
    `group * (largest coordinate + 1)` so that boxes of different groups never overlap, and
    one NMS runs over all of them. The largest coordinate is taken over the boxes that can
    be kept (score above `score_threshold`), so padding rows do not change the result.

    Args:
        boxes: `(B, N, 4)` xyxy boxes.
        scores: `(B, N)` scores; `-inf` marks padding rows, never kept.
        groups: `(B, N)` int group ids (>= 0).
        iou_threshold: IoU above which a box is suppressed within its group.
        max_output_size: output rows per image.
        score_threshold: boxes need a score above it.

    Returns:
        `(indices, valid)`: `(B, max_output_size)` int32 indices into N by descending score
        (padding rows index 0) and `(B, max_output_size)` bool.

    Example:
    >>> import numpy as np
    >>> boxes = np.array([[[0, 0, 10, 10], [1, 1, 10, 10], [1, 1, 10, 10]]], "float32")
    >>> scores = np.array([[0.9, 0.8, 0.7]], "float32")
    >>> groups = np.array([[0, 0, 1]], "int32")
    >>> indices, valid = batched_nms(boxes, scores, groups, 0.5, max_output_size=3)
    >>> np.asarray(indices).tolist(), np.asarray(valid).tolist()
    ([[0, 2, 0]], [[True, True, False]])
    """
    _check(iou_threshold, max_output_size)
    boxes, scores = _sanitize(boxes, scores)
    groups = tf.cast(groups, tf.float32)
    keepable = tf.expand_dims(scores > score_threshold, -1)
    largest = tf.reduce_max(tf.where(keepable, boxes, NEG_INF), axis=[1, 2], keepdims=True)
    largest = tf.where(tf.math.is_finite(largest), largest, 0.0)
    shifted = boxes + tf.expand_dims(groups, -1) * (largest + 1.0)

    def one_image(args):
        return _nms_single(*args, iou_threshold, max_output_size, score_threshold)

    if shifted.shape[0] is not None:
        results = [one_image((shifted[i], scores[i])) for i in range(shifted.shape[0])]
        return tuple(ops.stack(parts) for parts in zip(*results))
    return tf.map_fn(
        one_image,
        (shifted, scores),
        fn_output_signature=(
            tf.TensorSpec((max_output_size,), tf.int32),
            tf.TensorSpec((max_output_size,), tf.bool),
        ),
    )
