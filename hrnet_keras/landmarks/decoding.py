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


def _flatten(heatmaps):
    shape = ops.shape(heatmaps)
    height, width, k = shape[1], shape[2], shape[3]
    flat = ops.reshape(ops.transpose(heatmaps, (0, 3, 1, 2)), (-1, k, height * width))
    return flat, height, width


def _value_at(flat, x, y, height, width):
    x = ops.clip(x, 0, width - 1)
    y = ops.clip(y, 0, height - 1)
    # A one-hot product rather than a gather: it converts to builtin TFLite ops only.
    return ops.sum(flat * ops.one_hot(y * width + x, height * width, dtype=flat.dtype), axis=-1)


def _argmax(flat, width):
    # The first index of the maximum, from reductions and a select: builtin TFLite ops only
    # (keras' argmax adds bitwise ops for signed zeros that TFLite lacks).
    size = ops.shape(flat)[-1]
    positions = ops.arange(size, dtype="int32")
    is_max = flat >= ops.max(flat, axis=-1, keepdims=True)
    index = ops.min(ops.where(is_max, positions, size), axis=-1)
    return index % width, index // width


def _gaussian_blur(heatmaps, sigma):
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-((np.arange(-radius, radius + 1)) ** 2) / (2 * sigma**2))
    kernel2d = np.outer(taps, taps) / np.sum(taps) ** 2
    k = heatmaps.shape[-1]
    kernel = np.tile(kernel2d[:, :, None, None], (1, 1, k, 1)).astype("float32")
    blurred = ops.depthwise_conv(heatmaps, ops.convert_to_tensor(kernel), padding="same")
    # Keep each map's peak height, as the reference DARK implementation does.
    peak = ops.max(heatmaps, axis=(1, 2), keepdims=True)
    return blurred * peak / ops.maximum(ops.max(blurred, axis=(1, 2), keepdims=True), 1e-12)


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
    x, y = _argmax(flat, width)

    def shift(d_plus, d_minus, inside):
        return ops.where(inside, 0.25 * ops.sign(d_plus - d_minus), 0.0)

    at = lambda dx, dy: _value_at(flat, x + dx, y + dy, height, width)  # noqa: E731
    sx = shift(at(1, 0), at(-1, 0), (x > 0) & (x < width - 1))
    sy = shift(at(0, 1), at(0, -1), (y > 0) & (y < height - 1))
    return ops.stack([ops.cast(x, "float32") + sx, ops.cast(y, "float32") + sy], axis=-1)


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
    smooth = _gaussian_blur(heatmaps, sigma)
    flat, height, width = _flatten(ops.log(ops.maximum(smooth, 1e-10)))
    x, y = _argmax(flat, width)
    at = lambda dx, dy: _value_at(flat, x + dx, y + dy, height, width)  # noqa: E731
    center = at(0, 0)
    dx = 0.5 * (at(1, 0) - at(-1, 0))
    dy = 0.5 * (at(0, 1) - at(0, -1))
    dxx = 0.25 * (at(2, 0) - 2 * center + at(-2, 0))
    dyy = 0.25 * (at(0, 2) - 2 * center + at(0, -2))
    dxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
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
