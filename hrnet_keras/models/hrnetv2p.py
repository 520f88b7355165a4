"""`hrnetv2p`: the multi-level representation for detection (an FPN-like neck)."""

import keras

from hrnet_keras.models.backbone import HRNetBackbone
from hrnet_keras.models.options import DETECTION_DEFAULTS, check_num_classes, with_options
from hrnet_keras.models.representations import hrnetv2p_representation
from hrnet_keras.models.weights import load_weights


@with_options(DETECTION_DEFAULTS)
def hrnetv2p(width=32, *, channels=256, levels=5, pooling="avg", weights=None, name=None, options):
    """HRNetV2p: a `levels`-level pyramid of `channels` channels, strides 4 to 64.

    HRNetV2 -> conv1x1 to `channels` -> pooling with kernel = stride = 2^i -> a conv3x3 per
    level (mmdetection's HRFPN). The detection checkpoints start from the ImageNet backbones,
    hence the detection defaults (`DETECTION_DEFAULTS`): `upsample="nearest"`, Keras BN
    momentum 0.9.

    Args:
        channels: channels of every level.
        levels: number of levels (P2, P3, ...).
        pooling: `"avg"` (the paper) or `"max"`.
        Others as `hrnetv2`.

    Returns:
        A `keras.Model` whose output is a dict `{"P2": ..., "P6": ...}`.

    Example:
    >>> from hrnet_keras.models import hrnetv2p
    >>> model = hrnetv2p(width=8, channels=16, input_shape=(64, 64, 3))
    >>> {k: tuple(v.shape)[1:] for k, v in model.output.items()}
    {'P2': (16, 16, 16), 'P3': (8, 8, 16), 'P4': (4, 4, 16), 'P5': (2, 2, 16), 'P6': (1, 1, 16)}
    """
    check_num_classes(channels, "channels", allow_none=False)
    backbone = HRNetBackbone(width=width, **options.backbone_arguments())
    pyramid = hrnetv2p_representation(
        list(backbone.pyramid_outputs.values()),
        channels=channels,
        levels=levels,
        pooling=pooling,
        align_corners=options.align_corners,
    )
    model = keras.Model(backbone.input, pyramid, name=name or f"hrnetv2p_{backbone.spec.name}")
    return load_weights(model, weights)
