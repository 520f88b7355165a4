"""The output representations of the paper (Figure 3): V1, V1h, V2 and V2p."""

import keras

from hrnet_keras.layers import Resize, conv, conv_bn


def hrnetv1_representation(branches):
    """HRNetV1: the highest-resolution branch alone."""
    return branches[0]


def hrnetv1h_representation(branches, channels, *, norm):
    """HRNetV1h: the highest-resolution branch raised to `channels` by a 1x1 conv + BN + ReLU."""
    return conv_bn(branches[0], channels, 1, norm=norm, name="v1h")


def hrnetv2_representation(branches, *, align_corners=False):
    """HRNetV2: every branch bilinearly upsampled to the highest resolution, concatenated (15C)."""
    upsampled = [branches[0]]
    for b, x in enumerate(branches[1:], start=1):
        upsampled.append(
            Resize("bilinear", align_corners=align_corners, name=f"v2_upsample{b}")(
                [x, branches[0]]
            )
        )
    return keras.layers.Concatenate(name="v2_concat")(upsampled)


def hrnetv2p_representation(
    branches, *, channels=256, levels=5, pooling="avg", align_corners=False
):
    """HRNetV2p: V2 reduced to `channels` by a 1x1 conv, pooled by 2^i, a 3x3 conv per level.

    Returns a dict `{"P2": ..., "P6": ...}` keyed by level (Pn has stride 2^n).
    """
    if pooling not in ("avg", "max"):
        raise ValueError(f"`pooling` must be 'avg' or 'max'. Received: pooling={pooling!r}")
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise ValueError(f"`levels` must be a positive int. Received: levels={levels!r}")
    x = hrnetv2_representation(branches, align_corners=align_corners)
    x = conv(x, channels, 1, use_bias=True, name="v2p_reduction_conv")
    pool_layer = keras.layers.AveragePooling2D if pooling == "avg" else keras.layers.MaxPooling2D
    outputs = {}
    for i in range(levels):
        level = x if i == 0 else pool_layer(2**i, strides=2**i, name=f"v2p_pool{i}")(x)
        outputs[f"P{i + 2}"] = conv(level, channels, 3, use_bias=True, name=f"v2p_fpn{i}_conv")
    return outputs
