"""Anchor boxes of the RPN, laid out as mmdetection v2's `AnchorGenerator` lays them out."""

import numpy as np
from keras import ops

DEFAULT_STRIDES = (4, 8, 16, 32, 64)
DEFAULT_RATIOS = (0.5, 1.0, 2.0)
DEFAULT_SCALES = (8.0,)


def base_anchors(stride, *, scales=DEFAULT_SCALES, ratios=DEFAULT_RATIOS):
    """The anchors of one feature-map location at the origin, xyxy, ratio-major order.

    mmdetection v2 semantics: base size = stride, centre offset 0 (the centre is the
    location's top-left pixel corner), `h / w = ratio`, area `(stride * scale)^2`, no rounding.

    Args:
        stride: the level's stride in input pixels.
        scales: anchor sizes in units of the stride.
        ratios: height / width ratios.

    Returns:
        A float32 NumPy array `(len(ratios) * len(scales), 4)`; the scales of the first ratio
        come first.

    Example:
    >>> base_anchors(4, scales=(8,), ratios=(1.0,))
    array([[-16., -16.,  16.,  16.]], dtype=float32)
    """
    h_ratios = np.sqrt(np.asarray(ratios, "float64"))
    w_ratios = 1.0 / h_ratios
    scales = np.asarray(scales, "float64")
    widths = (stride * w_ratios[:, None] * scales[None, :]).reshape(-1)
    heights = (stride * h_ratios[:, None] * scales[None, :]).reshape(-1)
    return np.stack([-0.5 * widths, -0.5 * heights, 0.5 * widths, 0.5 * heights], -1).astype(
        "float32"
    )


def level_anchors(height, width, stride, *, scales=DEFAULT_SCALES, ratios=DEFAULT_RATIOS):
    """All anchors of one level whose feature map is `height x width`, location-major.

    Row `(y * width + x) * A + a` is anchor `a` of location `(y, x)`, the order in which a
    channels-last `(B, H, W, A)` RPN output reshapes to `(B, H * W * A)`.

    Args:
        height: feature-map height (int or scalar tensor).
        width: feature-map width (int or scalar tensor).
        stride: the level's stride in input pixels.
        scales: anchor sizes in units of the stride.
        ratios: height / width ratios.

    Returns:
        A float32 tensor `(height * width * A, 4)`, xyxy in input pixels.

    Example:
    >>> import numpy as np
    >>> np.asarray(level_anchors(1, 2, 16, ratios=(1.0,)))
    array([[-64., -64., 64., 64.],
           [-48., -64., 80., 64.]], dtype=float32)
    """
    base = ops.convert_to_tensor(base_anchors(stride, scales=scales, ratios=ratios))
    xs = ops.cast(ops.arange(width), "float32") * stride
    ys = ops.cast(ops.arange(height), "float32") * stride
    grid_y, grid_x = ops.meshgrid(ys, xs, indexing="ij")
    grid_x, grid_y = ops.reshape(grid_x, (-1,)), ops.reshape(grid_y, (-1,))
    shifts = ops.stack([grid_x, grid_y, grid_x, grid_y], axis=-1)
    return ops.reshape(shifts[:, None, :] + base[None, :, :], (-1, 4))


def multilevel_anchors(feature_sizes, strides=DEFAULT_STRIDES, **kwargs):
    """The anchors of every level, concatenated in level order.

    Args:
        feature_sizes: one `(height, width)` per level.
        strides: one stride per level.
        **kwargs: `scales` and `ratios` of `level_anchors`.

    Returns:
        A list of float32 tensors `(H_l * W_l * A, 4)`, one per level.
    """
    if len(feature_sizes) != len(strides):
        raise ValueError(
            "Give one feature size per stride. "
            f"Received: feature_sizes={feature_sizes}, strides={strides}"
        )
    return [level_anchors(h, w, s, **kwargs) for (h, w), s in zip(feature_sizes, strides)]


def level_valid_flags(height, width, stride, valid_height, valid_width, num_anchors):
    """Which anchors of one level lie on the image rather than on batch padding.

    mmdetection v2 marks location `(y, x)` valid when `y < ceil(valid_height / stride)` and
    likewise for x, where the valid size is the image padded to the size divisor (32); anchors
    of invalid locations take no part in the RPN targets.

    Args:
        height: feature-map height.
        width: feature-map width.
        stride: the level's stride.
        valid_height: `(B,)` padded image heights (float or int tensor).
        valid_width: `(B,)` padded image widths.
        num_anchors: anchors per location.

    Returns:
        A bool tensor `(B, height * width * num_anchors)`.
    """
    rows = ops.ceil(ops.cast(valid_height, "float32") / stride)
    cols = ops.ceil(ops.cast(valid_width, "float32") / stride)
    ys = ops.cast(ops.arange(height), "float32")
    xs = ops.cast(ops.arange(width), "float32")
    valid = ops.logical_and(
        ys[None, :, None] < rows[:, None, None], xs[None, None, :] < cols[:, None, None]
    )
    valid = ops.repeat(ops.reshape(valid, (ops.shape(valid)[0], -1, 1)), num_anchors, axis=-1)
    return ops.reshape(valid, (ops.shape(valid)[0], -1))
