"""`hrnetv2`: the paper's high-resolution representation, with an optional per-pixel head."""

import keras

from hrnet_keras.models.heads import dense_prediction_head
from hrnet_keras.models.options import backbone_and_norm, check_num_classes
from hrnet_keras.models.representations import hrnetv2_representation
from hrnet_keras.models.weights import load_weights


def hrnetv2(
    width=48,
    num_classes=None,
    *,
    input_shape=(None, None, 3),
    upsample="bilinear",
    align_corners=False,
    bn_momentum=0.9,
    bn_epsilon=1e-5,
    sync_bn=False,
    weights=None,
    name=None,
):
    """HRNetV2: all four branches upsampled and concatenated (15C channels, stride 4).

    With `num_classes=K` the segmentation / landmark head is appended (conv1x1 + BN + ReLU +
    conv1x1) and the model returns stride-4 logits (or heatmaps) with K channels.

    Args:
        width: 18, 30, 32, 40, 44, 48, 64, any positive int, `"18-small-v1"` or
            `"18-small-v2"`.
        num_classes: None for the representation, or the number of classes / landmarks.
        input_shape: `(height, width, 3)`; sizes None or multiples of 32.
        upsample: fusion upsampling; the segmentation and face checkpoints use
            `"bilinear"`, the classification ones `"nearest"`.
        align_corners: bilinear `align_corners` (fusion and concatenation).
        bn_momentum: Keras batch-norm momentum: 0.99 for the segmentation and face
            checkpoints' training, 0.9 for the classification ones.
        bn_epsilon: batch-norm epsilon.
        sync_bn: synchronised batch norm across replicas.
        weights: None, a `.keras` / `.weights.h5` file, or a published PyTorch checkpoint.
        name: model name (default `hrnetv2_w{width}`).

    Returns:
        A `keras.Model` from images (NHWC, normalised) to the representation or the logits.

    Example:
    >>> from hrnet_keras.models import hrnetv2
    >>> model = hrnetv2(width=8, num_classes=5, input_shape=(64, 64, 3))
    >>> tuple(model.output.shape)
    (None, 16, 16, 5)
    """
    check_num_classes(num_classes)
    backbone, norm = backbone_and_norm(
        width,
        input_shape=input_shape,
        upsample=upsample,
        align_corners=align_corners,
        bn_momentum=bn_momentum,
        bn_epsilon=bn_epsilon,
        sync_bn=sync_bn,
    )
    x = hrnetv2_representation(list(backbone.pyramid_outputs.values()), align_corners=align_corners)
    if num_classes is not None:
        x = dense_prediction_head(x, num_classes, norm=norm)
    model = keras.Model(backbone.input, x, name=name or f"hrnetv2_{backbone.spec.name}")
    return load_weights(model, weights)
