"""Task heads: dense per-pixel prediction (segmentation, landmark heatmaps) and classification."""

import keras

from hrnet_keras.layers import bottleneck, conv_bn

CLASSIFIER_PLANES = (32, 64, 128, 256)
CLASSIFIER_FEATURES = 2048
HEADS = ("C", "Ci", "Cii")


def dense_prediction_head(x, num_classes, *, norm, name="head"):
    """conv1x1 (bias) + BN + ReLU + conv1x1 to `num_classes` logits, at the input's stride."""
    x = conv_bn(x, x.shape[-1], 1, use_bias=True, norm=norm, name=name, suffix="1")
    return keras.layers.Conv2D(num_classes, 1, name=f"{name}_logits")(x)


def classification_features_c(branches, *, norm):
    """HRNet-Wx-C: bottlenecks to 128/256/512/1024, strided merges downwards, 1x1 to 2048."""
    features = [
        bottleneck(x, planes, norm=norm, name=f"head_incre{i}")
        for i, (x, planes) in enumerate(zip(branches, CLASSIFIER_PLANES))
    ]
    y = features[0]
    for i in range(len(features) - 1):
        down = conv_bn(
            y,
            features[i + 1].shape[-1],
            3,
            strides=2,
            use_bias=True,
            norm=norm,
            name=f"head_downsamp{i}",
        )
        y = keras.layers.Add(name=f"head_merge{i}")([features[i + 1], down])
    return conv_bn(y, CLASSIFIER_FEATURES, 1, use_bias=True, norm=norm, name="head_final")


def classification_features_ci(branches):
    """HRNet-Wx-Ci (ablation): global average pool of each branch, concatenated (15C)."""
    pooled = [
        keras.layers.GlobalAveragePooling2D(name=f"head_pool{i}")(x) for i, x in enumerate(branches)
    ]
    return keras.layers.Concatenate(name="head_concat")(pooled)


def classification_features_cii(branches, *, norm, channels=512):
    """HRNet-Wx-Cii (ablation): strided bottlenecks bring each branch to stride 32 and
    `channels`, doubling the width at each step; the four are concatenated (2048)."""
    outputs = []
    last = len(branches) - 1
    for b, x in enumerate(branches):
        steps = last - b
        for k in range(max(steps, 1)):
            remaining = steps - k - 1
            planes = channels // (2 ** max(remaining, 0)) // 4
            x = bottleneck(
                x, planes, strides=2 if steps else 1, norm=norm, name=f"head_branch{b}_unit{k}"
            )
        outputs.append(x)
    return keras.layers.Concatenate(name="head_concat")(outputs)
