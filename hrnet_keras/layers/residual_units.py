"""The two residual units of HRNet: BasicBlock (two 3x3) and Bottleneck (1x1-3x3-1x1)."""

import keras

from hrnet_keras.layers.conv_bn import conv_bn

BOTTLENECK_EXPANSION = 4


def _shortcut(x, filters, strides, *, norm, name):
    if x.shape[-1] == filters and strides == 1:
        return x
    return conv_bn(x, filters, 1, strides=strides, norm=norm, name=f"{name}_downsample", relu=False)


def basic_block(x, filters, *, norm, name, strides=1):
    """Two 3x3 convolutions with an identity (or projected) shortcut.

    Args:
        x: input tensor, NHWC.
        filters: output channels.
        norm: a `NormOptions`.
        name: layer name prefix, for example `stage2_module0_branch1_unit3`.
        strides: stride of the first convolution.

    Returns:
        The unit's output, `filters` channels.

    Example:
    >>> import keras
    >>> from hrnet_keras.layers import NormOptions, basic_block
    >>> y = basic_block(keras.Input((8, 8, 16)), 16, norm=NormOptions(), name="unit0")
    >>> tuple(y.shape)
    (None, 8, 8, 16)
    """
    shortcut = _shortcut(x, filters, strides, norm=norm, name=name)
    y = conv_bn(x, filters, 3, strides=strides, norm=norm, name=name, suffix="1")
    y = conv_bn(y, filters, 3, norm=norm, name=name, suffix="2", relu=False)
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def bottleneck(x, planes, *, norm, name, strides=1):
    """1x1 reduce, 3x3, 1x1 expand (x4), with an identity (or projected) shortcut.

    Args:
        x: input tensor, NHWC.
        planes: inner width; the output has `4 * planes` channels.
        norm: a `NormOptions`.
        name: layer name prefix, for example `stage1_unit0`.
        strides: stride of the 3x3 convolution (and of the projected shortcut).

    Returns:
        The unit's output, `4 * planes` channels.

    Example:
    >>> import keras
    >>> from hrnet_keras.layers import NormOptions, bottleneck
    >>> y = bottleneck(keras.Input((8, 8, 64)), 64, norm=NormOptions(), name="unit0")
    >>> tuple(y.shape)
    (None, 8, 8, 256)
    """
    filters = planes * BOTTLENECK_EXPANSION
    shortcut = _shortcut(x, filters, strides, norm=norm, name=name)
    y = conv_bn(x, planes, 1, norm=norm, name=name, suffix="1")
    y = conv_bn(y, planes, 3, strides=strides, norm=norm, name=name, suffix="2")
    y = conv_bn(y, filters, 1, norm=norm, name=name, suffix="3", relu=False)
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_out")(y)
