"""`hrnet_classifier`: HRNet with the ImageNet classification head (HRNet-Wx-C)."""

import keras

from hrnet_keras.models.heads import (
    HEADS,
    classification_features_c,
    classification_features_ci,
    classification_features_cii,
)
from hrnet_keras.models.options import backbone_and_norm, check_num_classes
from hrnet_keras.models.weights import load_weights

POOLINGS = (None, "avg", "max")


def hrnet_classifier(
    width=18,
    num_classes=1000,
    *,
    head="C",
    include_top=True,
    pooling=None,
    classifier_activation=None,
    input_shape=(None, None, 3),
    upsample="nearest",
    bn_momentum=0.9,
    bn_epsilon=1e-5,
    sync_bn=False,
    weights=None,
    name=None,
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
        input_shape: `(height, width, 3)`; sizes None or multiples of 32.
        upsample: fusion upsampling; the ImageNet checkpoints use `"nearest"`.
        bn_momentum, bn_epsilon, sync_bn, weights, name: as `hrnetv2`.

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
    backbone, norm = backbone_and_norm(
        width,
        input_shape=input_shape,
        upsample=upsample,
        align_corners=False,
        bn_momentum=bn_momentum,
        bn_epsilon=bn_epsilon,
        sync_bn=sync_bn,
    )
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
