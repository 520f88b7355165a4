"""`hrnetv1` and `hrnetv1h`: the high-resolution branch alone (the paper's ablations)."""

import keras

from hrnet_keras.models.backbone import HRNetBackbone
from hrnet_keras.models.heads import dense_prediction_head
from hrnet_keras.models.options import SEGMENTATION_DEFAULTS, check_num_classes, with_options
from hrnet_keras.models.representations import hrnetv1_representation, hrnetv1h_representation
from hrnet_keras.models.spec import hrnet_spec
from hrnet_keras.models.weights import load_weights


def _hrnetv1_family(width, num_classes, raise_to, *, name, weights, options):
    check_num_classes(num_classes)
    backbone = HRNetBackbone(width=width, **options.backbone_arguments())
    branches = list(backbone.pyramid_outputs.values())
    if raise_to is None:
        x = hrnetv1_representation(branches)
    else:
        x = hrnetv1h_representation(branches, raise_to, norm=options.norm)
    if num_classes is not None:
        x = dense_prediction_head(x, num_classes, norm=options.norm)
    kind = "hrnetv1" if raise_to is None else "hrnetv1h"
    model = keras.Model(backbone.input, x, name=name or f"{kind}_{backbone.spec.name}")
    return load_weights(model, weights)


@with_options(SEGMENTATION_DEFAULTS)
def hrnetv1(width=48, num_classes=None, *, weights=None, name=None, options):
    """HRNetV1: the highest-resolution branch (C channels, stride 4), optional head.

    Arguments as `hrnetv2`.

    Example:
    >>> from hrnet_keras.models import hrnetv1
    >>> tuple(hrnetv1(width=8, input_shape=(64, 64, 3)).output.shape)
    (None, 16, 16, 8)
    """
    return _hrnetv1_family(width, num_classes, None, name=name, weights=weights, options=options)


@with_options(SEGMENTATION_DEFAULTS)
def hrnetv1h(width=48, num_classes=None, *, channels=None, weights=None, name=None, options):
    """HRNetV1h: HRNetV1 whose output a 1x1 conv + BN + ReLU raises to `channels`.

    Args:
        channels: output dimension; default 15C, the dimension of HRNetV2, so the two
            compare at equal head width as in the paper's ablation.
        Others as `hrnetv2`.

    Example:
    >>> from hrnet_keras.models import hrnetv1h
    >>> tuple(hrnetv1h(width=8, input_shape=(64, 64, 3)).output.shape)
    (None, 16, 16, 120)
    """
    if channels is None:
        channels = hrnet_spec(width).representation_channels
    check_num_classes(channels, "channels", allow_none=False)
    return _hrnetv1_family(
        width, num_classes, channels, name=name, weights=weights, options=options
    )
