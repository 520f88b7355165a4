"""`faster_rcnn`: Faster R-CNN on HRNetV2p, or on the ResNet-FPN baseline, with mmdetection v2's
settings."""

from hrnet_keras.detection.faster_rcnn import FasterRCNN
from hrnet_keras.models.fpn import load_resnet_fpn_file, resnet_fpn
from hrnet_keras.models.hrnetv2p import hrnetv2p
from hrnet_keras.models.options import check_num_classes
from hrnet_keras.models.resnet import RESNET_BLOCKS
from hrnet_keras.models.weights import load_weights

RESNET_BACKBONES = {f"resnet{depth}": depth for depth in RESNET_BLOCKS}
BACKBONES = ("hrnetv2p", *RESNET_BACKBONES)


def faster_rcnn(
    width=32,
    num_classes=80,
    *,
    backbone="hrnetv2p",
    frozen_stages=None,
    input_shape=(None, None, 3),
    weights=None,
    channels=256,
    upsample="nearest",
    align_corners=False,
    bn_momentum=0.9,
    bn_epsilon=1e-5,
    sync_bn=False,
    norm_eval=True,
    name=None,
    **detector_kwargs,
):
    """Faster R-CNN with an HRNetV2p neck (HRFPN, 5 levels of `channels`): the paper's detector;
    or with a ResNet-FPN, the paper's baseline.

    RPN over P2..P6 (3 anchors a location), RoIAlign 7x7 over P2..P5 and a two-fc box head,
    as mmdetection v2's `faster_rcnn_hrnetv2p_w*` and `faster_rcnn_r50_fpn_1x_coco` configs.

    Args:
        width: HRNet width (18, 32, 40, 48 or a small variant name); unused by a ResNet.
        num_classes: object classes, background excluded (80 for COCO).
        backbone: `"hrnetv2p"` (HRNetV2p of `width`), or `"resnet50"`, `"resnet101"`,
            `"resnet152"` (`hrnet_keras.models.resnet_fpn`).
        frozen_stages: a ResNet's frozen stages (`ResNetBackbone`); None is mmdetection's
            1 (the stem and stage 1). HRNet freezes nothing.
        input_shape: `(height, width, 3)`, sizes None or multiples of 32.
        weights: None, a `.keras` / `.weights.h5` file or a PyTorch checkpoint.
        channels: channels of every pyramid level.
        upsample, align_corners, bn_momentum, bn_epsilon, sync_bn: as `hrnetv2p` (for a
            ResNet, `upsample` and `align_corners` are the FPN's top-down resizing).
        norm_eval: train with the backbone's batch-norm statistics frozen, as mmdetection's
            HRNet and ResNet do by default.
        name: the model's name.
        **detector_kwargs: the other arguments of `hrnet_keras.detection.FasterRCNN`
            (thresholds, proposal counts, sampler sizes, `seed`).

    Returns:
        A `hrnet_keras.detection.FasterRCNN`.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import faster_rcnn
    >>> model = faster_rcnn(width=8, num_classes=3, channels=16, fc_channels=32)
    >>> out = model(np.zeros((1, 64, 64, 3), "float32"))
    >>> {k: tuple(v.shape) for k, v in out.items()}
    {'boxes': (1, 100, 4), 'scores': (1, 100), 'labels': (1, 100), 'num_detections': (1,)}
    >>> faster_rcnn(backbone="resnet50", num_classes=3, channels=16, fc_channels=32).name
    'faster_rcnn_resnet50_fpn'
    """
    return two_stage_detector(
        FasterRCNN,
        "faster_rcnn",
        width,
        num_classes,
        backbone=backbone,
        frozen_stages=frozen_stages,
        input_shape=input_shape,
        weights=weights,
        channels=channels,
        upsample=upsample,
        align_corners=align_corners,
        bn_momentum=bn_momentum,
        bn_epsilon=bn_epsilon,
        sync_bn=sync_bn,
        norm_eval=norm_eval,
        name=name,
        **detector_kwargs,
    )


def two_stage_detector(
    detector_class,
    prefix,
    width,
    num_classes,
    *,
    backbone,
    frozen_stages,
    input_shape,
    weights,
    channels,
    upsample,
    align_corners,
    bn_momentum,
    bn_epsilon,
    sync_bn,
    norm_eval,
    name,
    **detector_kwargs,
):
    """A `FasterRCNN` (or subclass) `detector_class` on the neck `faster_rcnn` documents,
    named `{prefix}_{neck name}` unless `name` is given, `weights` loaded."""
    check_num_classes(num_classes, allow_none=False)
    if backbone not in BACKBONES:
        raise ValueError(f"`backbone` must be one of {BACKBONES}. Received: backbone={backbone!r}")
    options = {
        "input_shape": input_shape,
        "upsample": upsample,
        "align_corners": align_corners,
        "bn_momentum": bn_momentum,
        "bn_epsilon": bn_epsilon,
        "sync_bn": sync_bn,
    }
    if backbone == "hrnetv2p":
        if frozen_stages is not None:
            raise ValueError(
                "`frozen_stages` applies to a ResNet backbone; HRNetV2p freezes nothing. "
                f"Received: frozen_stages={frozen_stages!r}"
            )
        neck = hrnetv2p(width, channels=channels, levels=5, **options)
    else:
        neck = resnet_fpn(
            RESNET_BACKBONES[backbone],
            channels=channels,
            frozen_stages=1 if frozen_stages is None else frozen_stages,
            **options,
        )
    model = detector_class(
        neck,
        num_classes,
        norm_eval=norm_eval,
        name=name or f"{prefix}_{neck.name}",
        **detector_kwargs,
    )
    if backbone != "hrnetv2p":
        return load_resnet_fpn_file(model, weights)
    return load_weights(model, weights)
