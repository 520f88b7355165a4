"""Pasting each detection's 28x28 mask into the whole image (mmdetection's `_do_paste_mask`)."""

from keras import ops


def paste_weights(low_edge, high_edge, length, mask_size):
    """Bilinear weights `(N, length, mask_size)` from mask cells to image pixels on one axis.

    Pixel `p` (centre `p + 0.5`) reads the mask at `(p + 0.5 - low) / (high - low) * S - 0.5`
    in mask cells, `grid_sample(align_corners=False)` with zeros outside the mask.
    """
    low_edge = ops.cast(low_edge, "float32")[:, None, None]
    high_edge = ops.cast(high_edge, "float32")[:, None, None]
    pixels = ops.arange(length, dtype="float32")[None, :, None] + 0.5
    extent = ops.maximum(high_edge - low_edge, 1e-6)
    position = (pixels - low_edge) / extent * float(mask_size) - 0.5
    cells = ops.arange(mask_size, dtype="float32")[None, None, :]
    return ops.relu(1.0 - ops.abs(position - cells))


def paste_masks(masks, boxes, height, width, threshold=0.5):
    """Masks in box coordinates pasted into an image `height x width`, bilinearly.

    mmdetection v2's `_do_paste_mask` (`grid_sample` of the mask over the image pixels
    inside the box, zeros outside it), then `>= threshold`.

    Args:
        masks: `(N, S, S)` mask probabilities.
        boxes: `(N, 4)` xyxy boxes in the image's pixels.
        height, width: the image's size (ints or scalar tensors).
        threshold: the least probability of a mask pixel; None returns the probabilities.

    Returns:
        `(N, height, width)` bool (or float32 probabilities without `threshold`).

    Example:
    >>> import numpy as np
    >>> pasted = paste_masks(np.ones((1, 2, 2), "float32"), np.array([[1.0, 1.0, 3.0, 4.0]]),
    ...                      5, 5)
    >>> np.asarray(pasted, "int32")[0].tolist()
    [[0, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 0, 0]]
    """
    masks = ops.cast(masks, "float32")
    boxes = ops.cast(boxes, "float32")
    size = masks.shape[-1]
    weights_y = paste_weights(boxes[:, 1], boxes[:, 3], height, size)
    weights_x = paste_weights(boxes[:, 0], boxes[:, 2], width, size)
    pasted = ops.matmul(ops.matmul(weights_y, masks), ops.transpose(weights_x, (0, 2, 1)))
    if threshold is None:
        return pasted
    return pasted >= threshold
