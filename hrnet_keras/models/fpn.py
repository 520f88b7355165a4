"""The feature pyramid network (Lin et al. 2017) as mmdetection v2's `FPN`, and `resnet_fpn`,
the neck of the paper's detection baseline (ResNet-50-FPN)."""

import re

import keras

from hrnet_keras.layers import Resize, conv
from hrnet_keras.models.options import DETECTION_DEFAULTS, check_num_classes, with_options
from hrnet_keras.models.resnet import ResNetBackbone
from hrnet_keras.models.weights import TORCH_SUFFIXES, load_weights

_LEVEL = re.compile(r"^C(\d+)$")


def _levels(features):
    if not isinstance(features, dict) or not features:
        raise ValueError(
            "`features` must be a non-empty dict {'C2': ..., 'C5': ...}. "
            f"Received: features={features!r}"
        )
    levels = sorted((int(m.group(1)), k) for k in features if (m := _LEVEL.match(str(k))))
    numbers = [n for n, _ in levels]
    if len(levels) != len(features) or numbers != list(range(numbers[0], numbers[-1] + 1)):
        raise ValueError(
            "`features` must be keyed by consecutive levels 'C2', 'C3', ... "
            f"Received: features keys={sorted(features)}"
        )
    return levels


def fpn(features, *, channels=256, extra_levels=1, upsample="nearest", align_corners=False):
    """mmdetection's `FPN` (`add_extra_convs=False`): lateral 1x1s, a top-down path, 3x3s.

    Each level Cn gets a 1x1 conv (with bias) to `channels`; from the coarsest down, each is
    added to the coarser sum resized to its size (`F.interpolate(size=...)`, nearest by
    default); a 3x3 conv (with bias) on each sum gives Pn. Every extra level is a max pool
    of kernel 1, stride 2, of the previous output (P6 from P5): mmdetection's `num_outs`
    beyond the inputs, torchvision's `LastLevelMaxPool`. No normalisation, no activation.

    Layers are named after mmdetection's modules: `lateral_convs_{i}` and `fpn_convs_{i}`
    for `neck.lateral_convs.{i}.conv` and `neck.fpn_convs.{i}.conv`, i from the finest level.

    Args:
        features: `{"C2": ..., "C5": ...}`, consecutive levels, any channels.
        channels: channels of every output level.
        extra_levels: max-pooled levels after the last input level.
        upsample: `"nearest"` (mmdetection) or `"bilinear"`, of the top-down path.
        align_corners: for bilinear upsampling.

    Returns:
        `{"P2": ..., "P6": ...}`: the input levels and the extra ones, `channels` each.

    Example:
    >>> import keras
    >>> features = {f"C{n}": keras.Input((64 // 2**n, 64 // 2**n, 8 * n)) for n in (2, 3, 4, 5)}
    >>> {k: tuple(v.shape)[1:] for k, v in fpn(features, channels=16).items()}
    {'P2': (16, 16, 16), 'P3': (8, 8, 16), 'P4': (4, 4, 16), 'P5': (2, 2, 16), 'P6': (1, 1, 16)}
    """
    check_num_classes(channels, "channels", allow_none=False)
    if isinstance(extra_levels, bool) or not isinstance(extra_levels, int) or extra_levels < 0:
        raise ValueError(
            f"`extra_levels` must be a non-negative int. Received: extra_levels={extra_levels!r}"
        )
    levels = _levels(features)
    laterals = [
        conv(features[key], channels, 1, use_bias=True, name=f"lateral_convs_{i}")
        for i, (_, key) in enumerate(levels)
    ]
    for i in range(len(laterals) - 1, 0, -1):
        coarser = Resize(upsample, align_corners=align_corners, name=f"top_down_upsample{i}")(
            [laterals[i], laterals[i - 1]]
        )
        laterals[i - 1] = keras.layers.Add(name=f"top_down_add{i - 1}")([laterals[i - 1], coarser])
    outputs = {
        f"P{n}": conv(x, channels, 3, use_bias=True, name=f"fpn_convs_{i}")
        for i, ((n, _), x) in enumerate(zip(levels, laterals))
    }
    last = levels[-1][0]
    for n in range(last + 1, last + 1 + extra_levels):
        outputs[f"P{n}"] = keras.layers.MaxPooling2D(1, strides=2, name=f"extra_max_pool{n}")(
            outputs[f"P{n - 1}"]
        )
    return outputs


@with_options(DETECTION_DEFAULTS)
def resnet_fpn(depth=50, *, channels=256, frozen_stages=1, weights=None, name=None, options):
    """ResNet-FPN: a `ResNetBackbone` and an `fpn`, levels P2..P6 of `channels` channels.

    mmdetection v2's `faster_rcnn_r50_fpn_1x_coco` backbone and neck: ResNet "pytorch"
    style with `frozen_stages=1` (the stem and stage 1 frozen, as loaded from ImageNet)
    and FPN(256, `num_outs=5`), P6 a stride-2 max pool of P5. Every other batch norm keeps
    its moving statistics when the detector trains with `norm_eval=True`.

    Args:
        depth: 50, 101 or 152.
        channels: channels of every level.
        frozen_stages: see `ResNetBackbone`.
        weights: None, a `.keras` / `.weights.h5` file, or a PyTorch checkpoint: torchvision's
            ImageNet `resnet{depth}` (fills the backbone, the neck stays as initialised) or
            mmdetection's `backbone.` / `neck.` tensors; see
            `hrnet_keras.convert.resnet.load_resnet_fpn_weights`.
        name: the model's name.
        input_shape, bn_momentum, bn_epsilon, sync_bn: as every builder.
        upsample, align_corners: the FPN's top-down resizing (mmdetection: nearest).

    Returns:
        A `keras.Model` whose output is a dict `{"P2": ..., "P6": ...}`.

    Example:
    >>> from hrnet_keras.models import resnet_fpn
    >>> model = resnet_fpn(channels=16, input_shape=(64, 64, 3))
    >>> {k: tuple(v.shape)[1:] for k, v in model.output.items()}
    {'P2': (16, 16, 16), 'P3': (8, 8, 16), 'P4': (4, 4, 16), 'P5': (2, 2, 16), 'P6': (1, 1, 16)}
    """
    backbone = ResNetBackbone(
        depth,
        frozen_stages=frozen_stages,
        bn_momentum=options.bn_momentum,
        bn_epsilon=options.bn_epsilon,
        sync_bn=options.sync_bn,
        image_shape=options.input_shape,
    )
    pyramid = fpn(
        backbone.pyramid_outputs,
        channels=channels,
        upsample=options.upsample,
        align_corners=options.align_corners,
    )
    model = keras.Model(backbone.input, pyramid, name=name or f"resnet{depth}_fpn")
    return load_resnet_fpn_file(model, weights)


def load_resnet_fpn_file(model, weights):
    """`weights=` of the ResNet builders: Keras files as every builder, PyTorch checkpoints
    through the ResNet / FPN table of `hrnet_keras.convert.resnet`."""
    if weights is not None and str(weights).endswith(TORCH_SUFFIXES):
        from hrnet_keras.convert.resnet import load_resnet_fpn_weights

        load_resnet_fpn_weights(model, weights)
        return model
    return load_weights(model, weights)
