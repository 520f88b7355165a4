"""Convolution + batch normalisation + ReLU, padded exactly as PyTorch pads."""

import dataclasses

import keras

from hrnet_keras.layers.batch_norm import BatchNormalization
from hrnet_keras.layers.conv2d import Conv2D


@dataclasses.dataclass(frozen=True)
class NormOptions:
    """How every batch normalisation of a network is built.

    Args:
        momentum: Keras momentum (`1 - torch_momentum`): 0.9 matches the classification,
            timm and detection code, 0.99 the segmentation and face code.
        epsilon: 1e-5 as in PyTorch (the Keras default, 1e-3, changes the outputs of ported
            checkpoints).
        synchronized: synchronise the batch statistics across replicas of a
            `tf.distribute` strategy (SyncBN), as the segmentation recipes train.
    """

    momentum: float = 0.9
    epsilon: float = 1e-5
    synchronized: bool = False

    def __post_init__(self):
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(
                f"`bn_momentum` must be in [0, 1). Received: bn_momentum={self.momentum}"
            )
        if not self.epsilon > 0.0:
            raise ValueError(f"`bn_epsilon` must be positive. Received: bn_epsilon={self.epsilon}")

    def batch_norm(self, name):
        return BatchNormalization(
            momentum=self.momentum,
            epsilon=self.epsilon,
            synchronized=self.synchronized,
            name=name,
        )


def conv(x, filters, kernel_size, *, strides=1, use_bias=False, name):
    """A 2D convolution with PyTorch's symmetric `padding=kernel_size // 2`.

    Keras `padding="same"` pads stride-2 convolutions of even inputs on the bottom/right only;
    PyTorch pads both sides. Stride-1 convolutions agree; strided ones pad symmetrically
    inside the convolution (`hrnet_keras.layers.conv2d.Conv2D`), without a padded copy.
    """
    symmetric = kernel_size > 1 and strides != 1
    return Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same" if kernel_size > 1 and not symmetric else "valid",
        symmetric_padding=kernel_size // 2 if symmetric else 0,
        use_bias=use_bias,
        name=name,
    )(x)


def conv_bn(
    x, filters, kernel_size, *, norm, name, suffix="", strides=1, use_bias=False, relu=True
):
    """`conv` then batch normalisation, then optionally ReLU.

    Layers are named `{name}_conv{suffix}`, `{name}_bn{suffix}` and `{name}_relu{suffix}`, so
    that checkpoint conversion maps names by a table.
    """
    x = conv(
        x, filters, kernel_size, strides=strides, use_bias=use_bias, name=f"{name}_conv{suffix}"
    )
    x = norm.batch_norm(f"{name}_bn{suffix}")(x)
    if relu:
        x = keras.layers.ReLU(name=f"{name}_relu{suffix}")(x)
    return x
