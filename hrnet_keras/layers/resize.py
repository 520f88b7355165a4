"""Resizing that reproduces PyTorch's `F.interpolate` exactly."""

import keras
from keras import ops

INTERPOLATIONS = ("nearest", "bilinear")


def _axis_size(x, axis):
    static = x.shape[axis]
    return static if static is not None else ops.shape(x)[axis]


def _source_positions(in_size, out_size, align_corners):
    """Where PyTorch samples each output index of one axis, in input coordinates."""
    dst = ops.cast(ops.arange(out_size), "float32")
    in_f = ops.cast(in_size, "float32")
    out_f = ops.cast(out_size, "float32")
    if align_corners:
        scale = ops.where(out_f > 1.0, (in_f - 1.0) / ops.maximum(out_f - 1.0, 1.0), 0.0)
        return dst * scale
    return ops.maximum((dst + 0.5) * (in_f / out_f) - 0.5, 0.0)


def _linear_along(x, axis, out_size, align_corners):
    in_size = _axis_size(x, axis)
    src = _source_positions(in_size, out_size, align_corners)
    lower = ops.floor(src)
    weight = src - lower
    lower = ops.cast(lower, "int32")
    upper = ops.minimum(lower + 1, ops.cast(in_size, "int32") - 1)
    shape = [1, 1, 1, 1]
    shape[axis] = -1
    weight = ops.cast(ops.reshape(weight, shape), x.dtype)
    a = ops.take(x, lower, axis=axis)
    b = ops.take(x, upper, axis=axis)
    return a + (b - a) * weight


def _nearest_along(x, axis, out_size):
    in_size = _axis_size(x, axis)
    if isinstance(in_size, int) and isinstance(out_size, int) and out_size % in_size == 0:
        return ops.repeat(x, out_size // in_size, axis=axis)
    # PyTorch's legacy "nearest": floor(dst * in / out), clipped.
    dst = ops.cast(ops.arange(out_size), "float32")
    scale = ops.cast(in_size, "float32") / ops.cast(out_size, "float32")
    index = ops.minimum(ops.cast(ops.floor(dst * scale), "int32"), ops.cast(in_size, "int32") - 1)
    return ops.take(x, index, axis=axis)


@keras.saving.register_keras_serializable(package="hrnet_keras")
class Resize(keras.layers.Layer):
    """Resizes NHWC feature maps as PyTorch's `F.interpolate` does.

    Called on one tensor, it scales it by the integer factor `scale` (PyTorch's
    `scale_factor`). Called on `[x, reference]`, it resizes `x` to the height and width of
    `reference` (PyTorch's `size=`). Bilinear resizing honours `align_corners` both ways;
    nearest resizing is PyTorch's default (legacy) "nearest".

    Args:
        interpolation: `"nearest"` or `"bilinear"`.
        align_corners: PyTorch's `align_corners`, for bilinear resizing.
        scale: integer factor used when the layer is called on a single tensor.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.layers import Resize
    >>> x = np.arange(4, dtype="float32").reshape(1, 2, 2, 1)
    >>> y = Resize("bilinear", align_corners=True, scale=2)(x)
    >>> [round(float(v), 4) for v in np.asarray(y)[0, 0, :, 0]]
    [0.0, 0.3333, 0.6667, 1.0]
    """

    def __init__(self, interpolation="bilinear", align_corners=False, scale=None, **kwargs):
        super().__init__(**kwargs)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"`interpolation` must be one of {INTERPOLATIONS}. "
                f"Received: interpolation={interpolation!r}"
            )
        if scale is not None and (
            isinstance(scale, bool) or not isinstance(scale, int) or scale < 1
        ):
            raise ValueError(f"`scale` must be a positive int or None. Received: scale={scale!r}")
        self.interpolation = interpolation
        self.align_corners = bool(align_corners)
        self.scale = scale

    def _target_size(self, inputs):
        if isinstance(inputs, (list, tuple)):
            x, reference = inputs
            return x, (_axis_size(reference, 1), _axis_size(reference, 2))
        if self.scale is None:
            raise ValueError(
                "A `Resize` layer without `scale` must be called on `[x, reference]`. "
                f"Received: a single input of shape {inputs.shape}"
            )
        x = inputs
        return x, (_axis_size(x, 1) * self.scale, _axis_size(x, 2) * self.scale)

    def call(self, inputs):
        x, (height, width) = self._target_size(inputs)
        if self.interpolation == "nearest":
            return _nearest_along(_nearest_along(x, 1, height), 2, width)
        if not self.align_corners and isinstance(height, int) and isinstance(width, int):
            # The half-pixel bilinear resize of the backends is PyTorch's align_corners=False;
            # `ops.image.resize` needs a size known when the graph is built.
            return ops.image.resize(x, (height, width), interpolation="bilinear")
        x = _linear_along(x, 1, height, self.align_corners)
        return _linear_along(x, 2, width, self.align_corners)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)):
            x_shape, ref_shape = input_shape
            return (x_shape[0], ref_shape[1], ref_shape[2], x_shape[3])
        scaled = [None if d is None else d * self.scale for d in input_shape[1:3]]
        return (input_shape[0], *scaled, input_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update(
            interpolation=self.interpolation,
            align_corners=self.align_corners,
            scale=self.scale,
        )
        return config
