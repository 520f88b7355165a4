"""`hrnet_classifier`: HRNet with the ImageNet classification head (HRNet-Wx-C)."""

import keras

from hrnet_keras.models.backbone import HRNetBackbone
from hrnet_keras.models.heads import (
    HEADS,
    classification_features_c,
    classification_features_ci,
    classification_features_cii,
)
from hrnet_keras.models.options import CLASSIFICATION_DEFAULTS, check_num_classes, with_options
from hrnet_keras.models.weights import load_weights

POOLINGS = (None, "avg", "max")


@with_options(CLASSIFICATION_DEFAULTS)
def hrnet_classifier(
    width=18,
    num_classes=1000,
    *,
    head="C",
    include_top=True,
    pooling=None,
    classifier_activation=None,
    weights=None,
    name=None,
    options,
):
    """An ImageNet-style classifier (the appendix of the paper).

    Args:
        width: see `hrnetv2`.
        num_classes: classes of the top dense layer.
        head: `"C"` (the paper's head: bottlenecks, strided merges, 2048 features), or the
            ablations `"Ci"` (pool each branch, concatenate 15C) and `"Cii"` (strided
            bottlenecks to 512 per branch, concatenate 2048).
        include_top: with the dense layer; without, the head's features (pooled by
            `pooling`).
        pooling: without the top, None (the 4D feature map), `"avg"` or `"max"`.
        classifier_activation: activation of the top layer; None returns logits, as the
            PyTorch checkpoints do.
        weights, name: as `hrnetv2`.
        input_shape, upsample, align_corners, bn_momentum, bn_epsilon, sync_bn: as
            `hrnetv2`; the defaults are the classification code's (`CLASSIFICATION_DEFAULTS`:
            nearest fusion upsampling, Keras BN momentum 0.9, epsilon 1e-5).

    Example:
    >>> from hrnet_keras.models import hrnet_classifier
    >>> model = hrnet_classifier(width=8, num_classes=10, input_shape=(64, 64, 3))
    >>> tuple(model.output.shape)
    (None, 10)
    """
    if head not in HEADS:
        raise ValueError(f"`head` must be one of {HEADS}. Received: head={head!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"`pooling` must be one of {POOLINGS}. Received: pooling={pooling!r}")
    if include_top:
        check_num_classes(num_classes, allow_none=False)
    backbone = HRNetBackbone(width=width, **options.backbone_arguments())
    norm = options.norm
    branches = list(backbone.pyramid_outputs.values())
    if head == "C":
        x = classification_features_c(branches, norm=norm)
    elif head == "Ci":
        x = classification_features_ci(branches)
    else:
        x = classification_features_cii(branches, norm=norm)

    if len(x.shape) == 4 and (include_top or pooling == "avg"):
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif len(x.shape) == 4 and pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    if include_top:
        x = keras.layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    suffix = "" if head == "C" else f"_{head.lower()}"
    model = keras.Model(
        backbone.input, x, name=name or f"hrnet_{backbone.spec.name}_classifier{suffix}"
    )
    return load_weights(model, weights)
