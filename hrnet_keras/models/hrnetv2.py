"""`hrnetv2`: the paper's high-resolution representation, with an optional per-pixel head."""

import keras

from hrnet_keras.models.backbone import HRNetBackbone
from hrnet_keras.models.heads import dense_prediction_head
from hrnet_keras.models.options import SEGMENTATION_DEFAULTS, check_num_classes, with_options
from hrnet_keras.models.recompute import recomputed
from hrnet_keras.models.representations import hrnetv2_representation
from hrnet_keras.models.weights import load_weights


@with_options(SEGMENTATION_DEFAULTS)
def hrnetv2(width=48, num_classes=None, *, weights=None, name=None, options):
    """HRNetV2: all four branches upsampled and concatenated (15C channels, stride 4).

    With `num_classes=K` the segmentation / landmark head is appended (conv1x1 + BN + ReLU +
    conv1x1) and the model returns stride-4 logits (or heatmaps) with K channels.

    Args:
        width: 18, 30, 32, 40, 44, 48, 64, any positive int, `"18-small-v1"` or
            `"18-small-v2"`.
        num_classes: None for the representation, or the number of classes / landmarks.
        weights: None, a `.keras` / `.weights.h5` file, or a published PyTorch checkpoint.
        name: model name (default `hrnetv2_w{width}`).
        input_shape, upsample, align_corners, bn_momentum, bn_epsilon, sync_bn, recompute: the
            keywords every builder shares, see `hrnet_keras.models.options.HRNetOptions`.
            The defaults are the segmentation code's (`SEGMENTATION_DEFAULTS`: bilinear
            fusion, `align_corners=False`, Keras BN momentum 0.99, epsilon 1e-5), which the
            face code shares; the ImageNet checkpoints need `upsample="nearest"`.

    Returns:
        A `keras.Model` from images (NHWC, normalised) to the representation or the logits.

    Example:
    >>> from hrnet_keras.models import hrnetv2
    >>> model = hrnetv2(width=8, num_classes=5, input_shape=(64, 64, 3))
    >>> tuple(model.output.shape)
    (None, 16, 16, 5)
    """
    check_num_classes(num_classes)
    backbone = HRNetBackbone(width=width, **options.backbone_arguments())
    branches = list(backbone.pyramid_outputs.values())

    def head(xs):
        x = hrnetv2_representation(xs, align_corners=options.align_corners)
        if num_classes is not None:
            x = dense_prediction_head(x, num_classes, norm=options.norm)
        return [x]

    # The stride-4 representation and head are recomputed too, unless nothing is.
    enabled = options.recompute != "none"
    (x,) = recomputed(head, branches, name="head_block", enabled=enabled)
    model = keras.Model(backbone.input, x, name=name or f"hrnetv2_{backbone.spec.name}")
    return load_weights(model, weights)
