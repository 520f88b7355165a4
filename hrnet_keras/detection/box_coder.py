"""Box deltas as mmdetection v2's `DeltaXYWHBBoxCoder` (means 0) computes them, and clipping."""

import math

from keras import ops
from keras.utils import bounding_boxes

# mmdetection's `wh_ratio_clip` of 16 / 1000: no box grows or shrinks by more than 1000 / 16.
MAX_LOG_RATIO = math.log(1000.0 / 16)


def encode_boxes(anchors, boxes, stds=(1.0, 1.0, 1.0, 1.0)):
    """Deltas `(dx, dy, dw, dh) / stds` that turn `anchors` into `boxes` (both xyxy).

    Args:
        anchors: `(..., N, 4)` reference boxes.
        boxes: `(..., N, 4)` target boxes, broadcastable against `anchors`.
        stds: the four divisors (1 for the RPN, `(0.1, 0.1, 0.2, 0.2)` for the R-CNN).

    Returns:
        Float32 deltas `(..., N, 4)`.

    Example:
    >>> import numpy as np
    >>> deltas = encode_boxes(np.array([[0.0, 0, 10, 10]]), np.array([[5.0, 0, 15, 20]]))
    >>> np.round(np.asarray(deltas), 4)
    array([[0.5   , 0.5   , 0.    , 0.6931]], dtype=float32)
    """
    return bounding_boxes.encode_box_to_deltas(
        ops.cast(anchors, "float32"),
        ops.cast(boxes, "float32"),
        anchor_format="xyxy",
        box_format="xyxy",
        encoding_format="center_xywh",
        variance=stds,
    )


def decode_boxes(anchors, deltas, stds=(1.0, 1.0, 1.0, 1.0), max_log_ratio=MAX_LOG_RATIO):
    """Boxes (xyxy) from `anchors` and `deltas`; the inverse of `encode_boxes`.

    As mmdetection v2, the deltas are multiplied by `stds` first and `dw`, `dh` are then
    clamped to `[-max_log_ratio, max_log_ratio]`, so that `exp` never overflows.

    Args:
        anchors: `(..., N, 4)` reference boxes.
        deltas: `(..., N, 4)` deltas, broadcastable against `anchors`.
        stds: the four multipliers.
        max_log_ratio: the clamp of the scaled `dw` and `dh`.

    Returns:
        Float32 boxes `(..., N, 4)`, not clipped.

    Example:
    >>> import numpy as np
    >>> box = decode_boxes(np.array([[0.0, 0, 10, 10]]), np.array([[0.5, 0.5, 0, 100]]))
    >>> np.round(np.asarray(box), 1)
    array([[   5. , -302.5,   15. ,  322.5]], dtype=float32)
    """
    deltas = ops.cast(deltas, "float32") * ops.convert_to_tensor(stds, "float32")
    size = ops.clip(deltas[..., 2:], -max_log_ratio, max_log_ratio)
    deltas = ops.concatenate([deltas[..., :2], size], axis=-1)
    return bounding_boxes.decode_deltas_to_boxes(
        ops.cast(anchors, "float32"),
        deltas,
        anchor_format="xyxy",
        box_format="xyxy",
        encoded_format="center_xywh",
        variance=None,
    )


def clip_boxes(boxes, image_shape):
    """Clips xyxy boxes to `[0, width] x [0, height]` of their image.

    Args:
        boxes: `(B, N, 4)` boxes.
        image_shape: `(B, 2)` `(height, width)` of each image.

    Returns:
        The clipped boxes, `(B, N, 4)`.

    Example:
    >>> import numpy as np
    >>> boxes = np.array([[[-5.0, 2, 70, 90]]])
    >>> np.asarray(clip_boxes(boxes, np.array([[64, 48]])))
    array([[[ 0.,  2., 48., 64.]]], dtype=float32)
    """
    image_shape = ops.cast(image_shape, "float32")
    height, width = image_shape[:, None, 0], image_shape[:, None, 1]
    boxes = ops.cast(boxes, "float32")
    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    return ops.stack(
        [
            ops.clip(x1, 0.0, width),
            ops.clip(y1, 0.0, height),
            ops.clip(x2, 0.0, width),
            ops.clip(y2, 0.0, height),
        ],
        axis=-1,
    )


def smooth_l1(difference, beta=0.0):
    """mmdetection's `smooth_l1_loss` of `difference` elementwise; `beta=0` is the L1 loss.

    `0.5 * d**2 / beta` where `|d| < beta`, else `|d| - 0.5 * beta`.

    Args:
        difference: prediction minus target, any shape.
        beta: where the quadratic part ends (mmdetection's Cascade R-CNN: 1/9 in the RPN, 1
            in the box heads; its Faster R-CNN uses L1, 0).

    Returns:
        The elementwise loss, float32.

    Example:
    >>> import numpy as np
    >>> np.asarray(smooth_l1(np.array([0.5, -2.0]), beta=1.0)).tolist()
    [0.125, 1.5]
    """
    absolute = ops.abs(ops.cast(difference, "float32"))
    if not beta:
        return absolute
    return ops.where(absolute < beta, 0.5 * absolute * absolute / beta, absolute - 0.5 * beta)
