"""Heatmaps to landmark coordinates, in `keras.ops` so that it runs inside a served graph.

Two decoders:

- `"shift"` (the reference): the argmax cell, moved a quarter pixel on each axis towards the
  higher neighbour.
- `"dark"` (distribution-aware, Zhang et al. 2020): the heatmap is smoothed with the
  target's Gaussian, and the argmax is refined by one Newton step on the log-heatmap
  (`offset = -H^-1 grad`), which recovers a Gaussian's sub-pixel centre exactly.
"""

import math

import keras
import numpy as np
from keras import ops

from hrnet_keras.landmarks.geometry import heatmap_to_crop

DECODERS = ("shift", "dark")


# The floor of DARK's smoothed maps before the log, a normal float16 number: a
# float16 TFLite file stores every float constant in float16, where 1e-10 would become 0
# (then DARK's log gives -inf and its Newton step falls back to the integer argmax).
_LOG_FLOOR = 1e-4


def _flatten(heatmaps):
    shape = ops.shape(heatmaps)
    height, width, k = shape[1], shape[2], shape[3]
    flat = ops.reshape(ops.transpose(heatmaps, (0, 3, 1, 2)), (-1, k, height * width))
    return flat, height, width


def _argmax(flat):
    """The first index of the maximum along the last axis, int32."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # One ARG_MAX op in TFLite (keras' argmax adds bitwise ops for signed zeros that
        # TFLite lacks).
        return tf.argmax(flat, axis=-1, output_type=tf.int32)
    return ops.cast(ops.argmax(flat, axis=-1), "int32")


def _neighbours(flat, index, offsets, height, width):
    """The values of `flat` `(B, K, H*W)` at `index` `(B, K)` moved by each `(dx, dy)` of
    `offsets`, coordinates clipped to the map: `(B, K, len(offsets))`.

    One gather from the flattened maps (a builtin TFLite GATHER of B*K*len(offsets) values),
    not a product with one-hot maps, which costs a pass over every map per neighbour.
    """
    x, y = index % width, index // width
    dx = ops.convert_to_tensor(np.array([o[0] for o in offsets], "int32"))
    dy = ops.convert_to_tensor(np.array([o[1] for o in offsets], "int32"))
    xs = ops.clip(x[..., None] + dx, 0, width - 1)
    ys = ops.clip(y[..., None] + dy, 0, height - 1)
    size = height * width
    rows = ops.reshape(
        ops.arange(ops.shape(flat)[0] * ops.shape(flat)[1], dtype="int32"), ops.shape(x)
    )
    return ops.take(ops.reshape(flat, (-1,)), (rows * size)[..., None] + ys * width + xs)


def _gaussian_blur(heatmaps, sigma):
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-((np.arange(-radius, radius + 1)) ** 2) / (2 * sigma**2))
    taps = (taps / np.sum(taps)).astype("float32")
    k = heatmaps.shape[-1]
    # The 2-D Gaussian is separable: a column pass then a row pass (2(2r+1) taps, not (2r+1)^2).
    column = np.tile(taps[:, None, None, None], (1, 1, k, 1))
    row = np.tile(taps[None, :, None, None], (1, 1, k, 1))
    blurred = ops.depthwise_conv(heatmaps, ops.convert_to_tensor(column), padding="same")
    blurred = ops.depthwise_conv(blurred, ops.convert_to_tensor(row), padding="same")
    # Keep each map's peak height, as the reference DARK implementation does.
    peak = ops.max(heatmaps, axis=(1, 2), keepdims=True)
    return blurred * peak / ops.maximum(ops.max(blurred, axis=(1, 2), keepdims=True), _LOG_FLOOR)


def decode_shift(heatmaps):
    """Argmax plus a quarter-pixel shift towards the higher neighbour, in heatmap pixels.

    Args:
        heatmaps: `(B, H, W, K)`.

    Returns:
        `(B, K, 2)` float32 x, y.

    Example:
    >>> h = np.zeros((1, 5, 5, 1), "float32"); h[0, 2, 2, 0] = 1.0; h[0, 2, 3, 0] = 0.5
    >>> np.asarray(decode_shift(h)).tolist()
    [[[2.25, 2.0]]]
    """
    heatmaps = ops.convert_to_tensor(heatmaps, "float32")
    flat, height, width = _flatten(heatmaps)
    index = _argmax(flat)
    x, y = index % width, index // width
    # Right, left, down, up.
    near = _neighbours(flat, index, ((1, 0), (-1, 0), (0, 1), (0, -1)), height, width)
    sx = ops.where((x > 0) & (x < width - 1), 0.25 * ops.sign(near[..., 0] - near[..., 1]), 0.0)
    sy = ops.where((y > 0) & (y < height - 1), 0.25 * ops.sign(near[..., 2] - near[..., 3]), 0.0)
    return ops.stack([ops.cast(x, "float32") + sx, ops.cast(y, "float32") + sy], axis=-1)


# The cells DARK's derivatives read, as (dx, dy).
_DARK_OFFSETS = (
    (0, 0),
    (1, 0),
    (-1, 0),
    (0, 1),
    (0, -1),
    (2, 0),
    (-2, 0),
    (0, 2),
    (0, -2),
    (1, 1),
    (1, -1),
    (-1, 1),
    (-1, -1),
)


def decode_dark(heatmaps, sigma=1.5):
    """Distribution-aware decoding: Gaussian smoothing, then a Taylor (Newton) step on the log.

    Args:
        heatmaps: `(B, H, W, K)`.
        sigma: the targets' Gaussian sigma, in heatmap pixels.

    Returns:
        `(B, K, 2)` float32 x, y in heatmap pixels.

    Example:
    >>> yy, xx = np.mgrid[0:16, 0:16]
    >>> h = np.exp(-((xx - 6.3) ** 2 + (yy - 8.6) ** 2) / 4.5)[None, :, :, None]
    >>> np.round(np.asarray(decode_dark(h.astype("float32")), "float64"), 2).tolist()
    [[[6.3, 8.6]]]
    """
    heatmaps = ops.convert_to_tensor(heatmaps, "float32")
    # The log is monotonic: the argmax and the 13 cells are taken on the smoothed maps, and
    # only those cells go through the log.
    flat, height, width = _flatten(ops.maximum(_gaussian_blur(heatmaps, sigma), _LOG_FLOOR))
    index = _argmax(flat)
    x, y = index % width, index // width
    v = ops.log(_neighbours(flat, index, _DARK_OFFSETS, height, width))
    center, right, left, down, up = (v[..., i] for i in range(5))
    dx = 0.5 * (right - left)
    dy = 0.5 * (down - up)
    dxx = 0.25 * (v[..., 5] - 2 * center + v[..., 6])
    dyy = 0.25 * (v[..., 7] - 2 * center + v[..., 8])
    dxy = 0.25 * (v[..., 9] - v[..., 10] - v[..., 11] + v[..., 12])
    det = dxx * dyy - dxy * dxy
    inside = (x > 1) & (x < width - 2) & (y > 1) & (y < height - 2) & (ops.abs(det) > 1e-6)
    safe_det = ops.where(inside, det, 1.0)
    ox = -(dyy * dx - dxy * dy) / safe_det
    oy = -(-dxy * dx + dxx * dy) / safe_det
    ox = ops.where(inside, ops.clip(ox, -1.0, 1.0), 0.0)
    oy = ops.where(inside, ops.clip(oy, -1.0, 1.0), 0.0)
    return ops.stack([ops.cast(x, "float32") + ox, ops.cast(y, "float32") + oy], axis=-1)


def decode_heatmaps(heatmaps, method="shift", sigma=1.5):
    """Heatmap-pixel coordinates `(B, K, 2)` by `method` (`"shift"` or `"dark"`)."""
    if method == "shift":
        return decode_shift(heatmaps)
    if method == "dark":
        return decode_dark(heatmaps, sigma)
    raise ValueError(f"`method` must be one of {DECODERS}. Received: method={method!r}")


@keras.saving.register_keras_serializable(package="hrnet_keras")
class LandmarkDecoder(keras.layers.Layer):
    """Heatmaps `(B, H, W, K)` to landmark coordinates `(B, K, 2)` in input-crop pixels.

    Args:
        method: `"shift"` or `"dark"`.
        stride: input pixels per heatmap pixel.
        sigma: the targets' sigma (for `"dark"`).

    Example:
    >>> h = np.zeros((1, 4, 4, 1), "float32"); h[0, 1, 2, 0] = 1.0
    >>> np.asarray(LandmarkDecoder()(h)).tolist()
    [[[9.5, 5.5]]]
    """

    def __init__(self, method="shift", stride=4, sigma=1.5, **kwargs):
        super().__init__(**kwargs)
        if method not in DECODERS:
            raise ValueError(f"`method` must be one of {DECODERS}. Received: method={method!r}")
        self.method = method
        self.stride = stride
        self.sigma = sigma

    def call(self, heatmaps):
        points = decode_heatmaps(heatmaps, self.method, self.sigma)
        return heatmap_to_crop(points, self.stride)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1], 2)

    def get_config(self):
        return {
            **super().get_config(),
            "method": self.method,
            "stride": self.stride,
            "sigma": self.sigma,
        }
