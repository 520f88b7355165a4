"""RoIAlign of torchvision (`aligned=True`, adaptive sampling) in plain `keras.ops`.

`tf.image.crop_and_resize` has no XLA kernel, needs Flex ops in TFLite and its gradient
fails on empty or NaN boxes, so RoIAlign is written here from gathers and matrix products.

Why it is separable. torchvision averages, over a grid of `gh x gw` sample points a bin,
the bilinear interpolation of the map at each point. Bilinear weights are a product of a
row weight and a column weight, the "outside the map" test is per axis, and the grid is a
product of `gh` rows and `gw` columns. So each output bin is `A_y[ph] . F . A_x[pw]^T`
with one weight vector per output row (`A_y[ph, k]`, summed over that bin's sample rows,
divided by `gh`) and one per output column. The adaptive grid, which XLA cannot shape
statically, only changes the VALUES of these weight vectors, never a shape: it is exact for
any number of samples.

The shapes that stay static are the feature cells each RoI reads: a window of
`window = (short, long)` cells, placed at the RoI's first row and column and turned so that
its long side follows the RoI's long side, and at most `ceil((long - 2) / out)` samples a
bin and axis. A RoI whose extent is at most `short - 2` cells along its shorter side and
`long - 2` along its longer side (`ceil(extent) + 2` cells are touched) is pooled exactly.
Past that, two things happen, both visible only for such RoIs: bins needing more samples
than the cap take the cap, evenly spaced (torchvision's result with that `sampling_ratio`
on that axis), and samples past the window are dropped, so bins past it read zero and the
bin it ends in is too small. Raise `window` if a model pools larger RoIs.

Default `window=(32, 64)`: with mmdet's level mapping a RoI of `sqrt(wh)` in
`[56 * 2**k, 112 * 2**k)` pixels is pooled from level `k` (stride `4 * 2**k`), that is
`sqrt(wh) < 28` cells, so its short side is below 28 cells on levels 0-2 and its long side
below `28 * sqrt(aspect)`: exact up to an aspect ratio of 4.9 at the top of a level, 9.6 at
`sqrt(wh) = 20` cells. On level 3 (P5) RoIs are clipped to the image: 25 x 42 cells for
800 x 1333 images.

Cost (B=2, R=512, C=256, 7x7 output, P2 of an 800 x 1216 image = 200 x 304): the gathered
windows hold `B * R * C * short * long` floats, 2 GiB at the default (1 MiB per window
cell), which dominates memory (once forward, once for the gradient); times in `roi_align`.
"""

import keras
from keras import ops

from hrnet_keras.detection.roi_align_oversize import (
    check_oversize,
    pool_oversize,
    pools_oversize_exactly,
)
from hrnet_keras.detection.roi_align_weights import axis_needs, axis_weights

DEFAULT_WINDOW = (32, 64)


def _pair(value, name):
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ValueError(
            f"`{name}` must be a positive int or a pair of them. Received: {name}={value!r}"
        )
    return tuple(int(v) for v in value)


def _check_window(window):
    short, long = _pair(window, "window")
    if short > long:
        raise ValueError(
            "`window` is (short side, long side) and needs short <= long. "
            f"Received: window={window!r}"
        )
    return short, long


def _pad_rows(weights, rows):
    missing = rows - weights.shape[2]
    return weights if missing == 0 else ops.pad(weights, ((0, 0), (0, 0), (0, missing), (0, 0)))


def _pool(flat, boxes, level_info, output_size, sampling_ratio, aligned, window, exact):
    """RoIAlign of every RoI from its own level of the flattened, concatenated feature maps.

    Args:
        flat: `(B, N, C)` feature maps, each flattened row-major, concatenated along N.
        boxes: `(B, R, 4)` xyxy boxes in input pixels.
        level_info: `(heights, widths, offsets, scales)` of each RoI's level, `(B, R)` each.
        exact: pool the RoIs that do not fit the window again, exactly (TensorFlow, no XLA).
    """
    out_h, out_w = output_size
    short, long = window
    heights, widths, offsets, scales = level_info
    batch, num_cells, channels = ops.shape(flat)[0], ops.shape(flat)[1], flat.shape[-1]
    num_rois = ops.shape(boxes)[1]

    boxes = ops.stop_gradient(ops.cast(boxes, "float32"))
    # Padding rows may hold NaN or inf; with them the weights, and so the feature gradient,
    # would be NaN. Finite garbage only yields finite garbage.
    boxes = ops.where(ops.isfinite(boxes), boxes, 0.0)
    x1, y1, x2, y2 = (boxes[..., i] * scales for i in range(4))
    heights_f, widths_f = ops.cast(heights, "float32"), ops.cast(widths, "float32")

    # Samples a bin: as many as a RoI that fits the window can need.
    def cap(out):
        return max(-(-(long - 2) // out), 1) if sampling_ratio <= 0 else sampling_ratio

    weights_y, row0 = axis_weights(
        y1, y2, heights_f, out_h, long, cap(out_h), sampling_ratio, aligned
    )
    weights_x, col0 = axis_weights(
        x1, x2, widths_f, out_w, long, cap(out_w), sampling_ratio, aligned
    )
    rows = max(out_h, out_w)
    weights_y, weights_x = _pad_rows(weights_y, rows), _pad_rows(weights_x, rows)

    # Turn each window so that its long side follows the RoI's long side.
    wide = ops.expand_dims(ops.expand_dims(ops.abs(x2 - x1) >= ops.abs(y2 - y1), -1), -1)
    along_long = ops.where(wide, weights_x, weights_y)  # (B, R, rows, long)
    along_short = ops.where(wide, weights_y, weights_x)[..., :short]  # (B, R, rows, short)

    a = ops.reshape(ops.arange(short, dtype="int32"), (1, 1, 1, short))
    b = ops.reshape(ops.arange(long, dtype="int32"), (1, 1, long, 1))
    row0_, col0_ = (
        ops.expand_dims(ops.expand_dims(row0, -1), -1),
        ops.expand_dims(ops.expand_dims(col0, -1), -1),
    )
    row = ops.where(wide, row0_ + a, row0_ + b)
    col = ops.where(wide, col0_ + b, col0_ + a)
    # Cells past the map get zero weight; clipping only keeps their indices in range.
    h_, w_ = (
        ops.expand_dims(ops.expand_dims(heights, -1), -1),
        ops.expand_dims(ops.expand_dims(widths, -1), -1),
    )
    row = ops.clip(row, 0, h_ - 1)
    col = ops.clip(col, 0, w_ - 1)
    base = ops.reshape(ops.arange(batch, dtype="int32") * num_cells, (-1, 1, 1, 1))
    index = base + ops.expand_dims(ops.expand_dims(offsets, -1), -1) + row * w_ + col
    cells = ops.take(ops.reshape(flat, (-1, channels)), ops.reshape(index, (-1,)), axis=0)
    cells = ops.reshape(cells, (-1, long, short * channels))

    # Contract the long side first: the largest tensor is then the gathered window itself.
    pooled = ops.matmul(ops.reshape(along_long, (-1, rows, long)), cells)
    pooled = ops.reshape(pooled, (-1, rows, short, channels))
    pooled = ops.matmul(ops.reshape(along_short, (-1, 1, rows, short)), pooled)
    # pooled[m, n]: m indexes the long side's bins, n the short side's.
    pooled = ops.reshape(pooled, (batch, num_rois, rows, rows, channels))
    pooled = ops.where(
        ops.reshape(wide, (batch, num_rois, 1, 1, 1)),
        ops.transpose(pooled, (0, 1, 3, 2, 4)),
        pooled,
    )
    pooled = pooled[:, :, :out_h, :out_w, :]
    if not exact:
        return pooled

    _, cells_y, grid_y = axis_needs(y1, y2, heights_f, out_h, sampling_ratio, aligned)
    _, cells_x, grid_x = axis_needs(x1, x2, widths_f, out_w, sampling_ratio, aligned)
    wide = ops.reshape(wide, (batch, num_rois))
    fits = ops.logical_and(
        ops.where(wide, cells_x, cells_y) <= long, ops.where(wide, cells_y, cells_x) <= short
    )
    fits = ops.logical_and(fits, ops.logical_and(grid_y <= cap(out_h), grid_x <= cap(out_w)))
    return pool_oversize(
        ops.reshape(flat, (-1, channels)),
        num_cells,
        pooled,
        ops.logical_not(fits),
        (x1, y1, x2, y2, heights, widths, offsets),
        output_size,
        sampling_ratio,
        aligned,
    )


def _flatten_levels(features):
    """Concatenates NHWC maps into `(B, sum(H*W), C)` with each level's height, width, offset."""
    heights, widths, offsets, flats = [], [], [], []
    offset = 0
    for feature in features:
        h, w = feature.shape[1], feature.shape[2]
        h = h if h is not None else ops.shape(feature)[1]
        w = w if w is not None else ops.shape(feature)[2]
        heights.append(h)
        widths.append(w)
        offsets.append(offset)
        offset = offset + h * w
        flats.append(ops.reshape(feature, (ops.shape(feature)[0], -1, feature.shape[-1])))
    flat = flats[0] if len(flats) == 1 else ops.concatenate(flats, axis=1)
    return flat, (heights, widths, offsets)


def roi_align(
    features,
    boxes,
    output_size,
    spatial_scale,
    sampling_ratio=0,
    aligned=True,
    window=DEFAULT_WINDOW,
    oversize="auto",
):
    """Pools each box of one feature map to a fixed grid, as `torchvision.ops.roi_align`.

    Same numbers (forward and gradient w.r.t. `features`) as torchvision's `roi_align` with
    NCHW tensors and `[batch_index, x1, y1, x2, y2]` RoIs, here channels-last and batched.
    Boxes get no gradient (as in torchvision and mmdet, where RoIs are detached). Zero,
    degenerate, NaN or inf boxes (padding rows) give finite values and gradients. Static
    shapes: works under XLA (`jit_compile=True`) and converts to TFLite builtins.

    Cost at B=2, R=512, C=256, 7x7 (`benchmarks/roi_align_cost.py`, 2 CPU cores, float32):
    the gathered windows are 2 GiB; P2..P5 pooled together take 3.6 s forward and 9.0 s
    forward+backward (peak RSS 5.8 GiB; under XLA 5.3 s / 8.7 s, 8.3 GiB); all RoIs on P2
    (200 x 304) take 8.0 s / 9.8 s, where torchvision's CPU kernel takes 16.5 s forward.

    Args:
        features: `(B, H, W, C)` feature map.
        boxes: `(B, R, 4)` boxes `x1, y1, x2, y2` in input pixels; rows may be padding.
        output_size: int or `(out_h, out_w)`.
        spatial_scale: feature cells per input pixel (1 / stride).
        sampling_ratio: samples a bin per axis; 0 for torchvision's adaptive
            `ceil(roi_size / output_size)`.
        aligned: torchvision's `aligned` (shift by half a cell, no minimum RoI size of 1).
        window: `(short, long)` feature cells read per RoI (see the module docstring): RoIs
            up to `short - 2` by `long - 2` cells are pooled exactly.

    Returns:
        `(B, R, out_h, out_w, C)` pooled features, in the dtype of `features`.

    Example:
    >>> import numpy as np
    >>> features = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> boxes = np.array([[[0.0, 0.0, 4.0, 4.0]]], "float32")
    >>> pooled = roi_align(features, boxes, output_size=2, spatial_scale=1.0)
    >>> np.asarray(pooled)[0, 0, :, :, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    output_size = _pair(output_size, "output_size")
    window = _check_window(window)
    return multilevel_roi_align(
        [features],
        boxes,
        output_size,
        strides=(1.0 / float(spatial_scale),),
        sampling_ratio=sampling_ratio,
        aligned=aligned,
        window=window,
        oversize=oversize,
        _spatial_scales=(float(spatial_scale),),
    )


def level_of_boxes(boxes, num_levels=4, finest_scale=56):
    """Pyramid level of each box, mmdetection v2's `map_roi_levels`.

    `floor(log2(sqrt(w * h) / finest_scale + 1e-6))` clamped to `[0, num_levels - 1]`,
    computed as comparisons with powers of two so that boxes on a boundary get the same
    level as mmdet's float32 `log2`. Boxes with a negative area or NaN go to level 0.

    Args:
        boxes: `(..., 4)` xyxy boxes in input pixels.
        num_levels: number of pyramid levels.
        finest_scale: box size (pixels) mapped to the boundary between levels 0 and 1 / 2.

    Returns:
        `(...)` int32 level indices.

    Example:
    >>> import numpy as np
    >>> boxes = np.array([[0, 0, 100, 100], [0, 0, 112, 112], [0, 0, 1000, 900]], "float32")
    >>> np.asarray(level_of_boxes(boxes)).tolist()
    [0, 1, 3]
    """
    boxes = ops.cast(boxes, "float32")
    area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    scale = ops.sqrt(ops.maximum(area, 0.0)) / float(finest_scale) + 1e-6
    if num_levels == 1:
        return ops.zeros(ops.shape(scale), dtype="int32")
    passed = [ops.cast(scale >= float(2**k), "int32") for k in range(1, num_levels)]
    return sum(passed[1:], passed[0])


def _as_level_list(features, num_levels):
    if isinstance(features, dict):
        keys = sorted(features, key=lambda key: int(str(key).lstrip("Pp")))
        features = [features[key] for key in keys]
    features = list(features)
    if len(features) < num_levels:
        raise ValueError(
            f"Expected at least {num_levels} feature maps, one per stride. "
            f"Received: {len(features)} feature maps"
        )
    return features[:num_levels]


def multilevel_roi_align(
    features,
    boxes,
    output_size,
    strides=(4, 8, 16, 32),
    finest_scale=56,
    sampling_ratio=0,
    aligned=True,
    window=DEFAULT_WINDOW,
    oversize="auto",
    _spatial_scales=None,
):
    """RoIAlign of each box from the pyramid level `level_of_boxes` gives it.

    All levels are pooled in one pass (the maps are flattened and concatenated, each RoI
    reads its own level's cells), so the cost is that of one `roi_align`, not one a level.

    Args:
        features: list of `(B, H_l, W_l, C)` maps, finest first, or a dict `{"P2": ...}`;
            only the first `len(strides)` levels are used (mmdet's `feats[:num_levels]`).
        boxes: `(B, R, 4)` xyxy boxes in input pixels.
        output_size: int or `(out_h, out_w)`.
        strides: stride of each level, in input pixels.
        finest_scale: as in `level_of_boxes`.
        sampling_ratio, aligned, window: as in `roi_align`.

    Returns:
        `(B, R, out_h, out_w, C)` pooled features.

    Example:
    >>> import numpy as np
    >>> features = [np.ones((1, 64 // s, 64 // s, 2), "float32") * s for s in (4, 8, 16, 32)]
    >>> boxes = np.array([[[0, 0, 20, 20], [0, 0, 120, 120]]], "float32")  # levels 0, 1
    >>> pooled = multilevel_roi_align(features, boxes, output_size=7)
    >>> tuple(pooled.shape), float(pooled[0, 0, 3, 3, 0]), float(pooled[0, 1, 3, 3, 0])
    ((1, 2, 7, 7, 2), 4.0, 8.0)
    """
    output_size = _pair(output_size, "output_size")
    window = _check_window(window)
    exact = pools_oversize_exactly(oversize)
    if sampling_ratio < 0 or int(sampling_ratio) != sampling_ratio:
        raise ValueError(
            f"`sampling_ratio` must be an int >= 0. Received: sampling_ratio={sampling_ratio!r}"
        )
    features = _as_level_list(features, len(strides))
    flat, (heights, widths, offsets) = _flatten_levels(features)
    scales = _spatial_scales or tuple(1.0 / float(s) for s in strides)
    if len(features) == 1:
        level = ops.zeros(ops.shape(boxes)[:-1], dtype="int32")
    else:
        level = level_of_boxes(boxes, len(features), finest_scale)

    # Selects rather than a gather from a table: small, and TFLite keeps them builtin.
    def per_roi(values, dtype):
        picked = ops.zeros(ops.shape(level), dtype)
        for k, value in enumerate(values):
            picked = ops.where(level == k, ops.cast(value, dtype), picked)
        return picked

    level_info = [per_roi(v, "int32") for v in (heights, widths, offsets)]
    level_info.append(per_roi(scales, "float32"))
    pooled = _pool(
        flat, boxes, level_info, output_size, int(sampling_ratio), bool(aligned), window, exact
    )
    return ops.cast(pooled, ops.convert_to_tensor(features[0]).dtype)


@keras.saving.register_keras_serializable(package="hrnet_keras")
class MultiLevelRoIAlign(keras.layers.Layer):
    """Pools RoIs from a feature pyramid, each from its level: `multilevel_roi_align`.

    Called as `layer(features, boxes)` with `features` a list (finest first) or a dict
    `{"P2": ..., "P5": ...}` of `(B, H_l, W_l, C)` maps and `boxes` `(B, R, 4)` xyxy in
    input pixels; returns `(B, R, out_h, out_w, C)`.

    Args:
        output_size: int or `(out_h, out_w)`.
        strides: stride of each level, in input pixels.
        finest_scale: box size (pixels) at the boundary between levels 0 and 1, halved.
        sampling_ratio: samples a bin per axis, 0 for torchvision's adaptive grid.
        aligned: torchvision's `aligned`.
        window: `(short, long)` feature cells read per RoI, see `roi_align`.

    Example:
    >>> import numpy as np
    >>> layer = MultiLevelRoIAlign(output_size=7, strides=(4, 8))
    >>> features = [np.zeros((2, 16, 16, 8), "float32"), np.zeros((2, 8, 8, 8), "float32")]
    >>> tuple(layer(features, np.zeros((2, 5, 4), "float32")).shape)
    (2, 5, 7, 7, 8)
    """

    def __init__(
        self,
        output_size=7,
        strides=(4, 8, 16, 32),
        finest_scale=56,
        sampling_ratio=0,
        aligned=True,
        window=DEFAULT_WINDOW,
        oversize="auto",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.output_size = _pair(output_size, "output_size")
        self.strides = tuple(int(s) for s in strides)
        self.finest_scale = finest_scale
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)
        self.window = _check_window(window)
        self.oversize = check_oversize(oversize)

    def call(self, features, boxes):
        return multilevel_roi_align(
            features,
            boxes,
            self.output_size,
            strides=self.strides,
            finest_scale=self.finest_scale,
            sampling_ratio=self.sampling_ratio,
            aligned=self.aligned,
            window=self.window,
            oversize=self.oversize,
        )

    def compute_output_shape(self, features_shape, boxes_shape):
        first = (
            features_shape[min(features_shape)]
            if isinstance(features_shape, dict)
            else features_shape[0]
        )
        return (*boxes_shape[:2], *self.output_size, first[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            output_size=self.output_size,
            strides=self.strides,
            finest_scale=self.finest_scale,
            sampling_ratio=self.sampling_ratio,
            aligned=self.aligned,
            window=self.window,
            oversize=self.oversize,
        )
        return config
