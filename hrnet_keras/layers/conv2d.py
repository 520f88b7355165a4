"""A convolution that zero-pads both sides as PyTorch does, inside the convolution op."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hrnet_keras")
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` with PyTorch's symmetric `padding=p` (`symmetric_padding`).

    Keras' `padding="same"` pads a stride-2 convolution of an even input on the bottom and
    right only; PyTorch pads both sides. A `ZeroPadding2D` layer before a `"valid"`
    convolution computes PyTorch's result but makes a padded copy of the input, which the
    convolution's gradient keeps until the backward pass reaches it, beside the unpadded
    input that the ReLU before it keeps: in HRNetV2-W48 at 512x1024 the 52 strided
    convolutions' padded inputs are 242 MB of a training step. Here TensorFlow pads inside
    the convolution (explicit padding); other backends pad first.

    The layer serialises as a `Conv2D` (what BN folding and checkpoint conversion look
    for), with `symmetric_padding` in its config.

    Args:
        symmetric_padding: zeros added on each side of both spatial dimensions; with a
            positive value `padding` must be `"valid"`.
        *args, **kwargs: those of `keras.layers.Conv2D`.

    Example:
    >>> import numpy as np
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> layer = Conv2D(1, 3, strides=2, symmetric_padding=1, use_bias=False,
    ...                kernel_initializer="ones")
    >>> np.asarray(layer(x))[0, :, :, 0].tolist()  # windows centred on rows/columns 0 and 2
    [[10.0, 24.0], [51.0, 90.0]]
    >>> layer.compute_output_shape((1, 4, 4, 1))
    (1, 2, 2, 1)
    """

    def __init__(self, *args, symmetric_padding=0, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(symmetric_padding, bool) or not isinstance(symmetric_padding, int):
            raise ValueError(
                "`symmetric_padding` must be a non-negative int. "
                f"Received: symmetric_padding={symmetric_padding!r}"
            )
        if symmetric_padding < 0 or (symmetric_padding and self.padding != "valid"):
            raise ValueError(
                "`symmetric_padding` must be >= 0, and 0 unless `padding='valid'`. "
                f"Received: symmetric_padding={symmetric_padding}, padding={self.padding!r}"
            )
        self.symmetric_padding = symmetric_padding

    def _spatial_pads(self):
        pad = [self.symmetric_padding] * 2
        if self.data_format == "channels_last":
            return [[0, 0], pad, pad, [0, 0]]
        return [[0, 0], [0, 0], pad, pad]

    def convolution_op(self, inputs, kernel):
        if not self.symmetric_padding:
            return super().convolution_op(inputs, kernel)
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            return tf.nn.conv2d(
                inputs,
                kernel,
                strides=list(self.strides),
                padding=self._spatial_pads(),
                data_format="NHWC" if self.data_format == "channels_last" else "NCHW",
                dilations=list(self.dilation_rate),
            )
        return super().convolution_op(ops.pad(inputs, self._spatial_pads()), kernel)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        for axis in axes:
            if shape[axis] is not None:
                shape[axis] += 2 * self.symmetric_padding
        return super().compute_output_shape(tuple(shape))

    def get_config(self):
        return {**super().get_config(), "symmetric_padding": self.symmetric_padding}
