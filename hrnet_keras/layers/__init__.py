"""Building blocks of HRNet.

The residual units, the multi-resolution group convolution, the multi-resolution fusion and
the transitions are builder functions over the functional API (conv/BN/ReLU stacks with
stable layer names); `Resize` is the one layer with computation of its own.
"""

from hrnet_keras.layers.conv_bn import NormOptions, conv, conv_bn
from hrnet_keras.layers.multi_resolution_fusion import multi_resolution_fusion
from hrnet_keras.layers.multi_resolution_group_conv import multi_resolution_group_conv
from hrnet_keras.layers.residual_units import BOTTLENECK_EXPANSION, basic_block, bottleneck
from hrnet_keras.layers.resize import Resize
from hrnet_keras.layers.transitions import transition

__all__ = [
    "BOTTLENECK_EXPANSION",
    "NormOptions",
    "Resize",
    "basic_block",
    "bottleneck",
    "conv",
    "conv_bn",
    "multi_resolution_fusion",
    "multi_resolution_group_conv",
    "transition",
]
