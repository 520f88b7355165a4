"""`cascade_rcnn`: Cascade R-CNN on HRNetV2p (or the ResNet-FPN baseline) with mmdetection v2's
settings."""

from hrnet_keras.detection.cascade_rcnn import CascadeRCNN
from hrnet_keras.models.faster_rcnn import two_stage_detector


def cascade_rcnn(
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
    """Cascade R-CNN with an HRNetV2p neck, as mmdetection v2's `cascade_rcnn_hrnetv2p_w*`.

    Faster R-CNN's backbone, neck, RPN and RoIAlign (see `faster_rcnn`; the RPN keeps 2000
    proposals while training), then three class-agnostic two-fc box heads trained at IoU
    0.5 / 0.6 / 0.7 with stds (0.1, 0.1, 0.2, 0.2) / (0.05, 0.05, 0.1, 0.1) /
    (0.033, 0.033, 0.067, 0.067) and loss weights 1 / 0.5 / 0.25
    (`hrnet_keras.detection.CASCADE_STAGES`); the test score is the mean of the stages'.

    Args:
        width, num_classes, backbone, frozen_stages, input_shape, weights, channels,
            upsample, align_corners, bn_momentum, bn_epsilon, sync_bn, norm_eval, name:
            as `faster_rcnn`.
        **detector_kwargs: the other arguments of `hrnet_keras.detection.CascadeRCNN`
            (stages, thresholds, proposal counts, sampler sizes, `seed`).

    Returns:
        A `hrnet_keras.detection.CascadeRCNN`.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import cascade_rcnn
    >>> model = cascade_rcnn(width=8, num_classes=3, channels=16, fc_channels=32)
    >>> model.name, len(model.roi_heads)
    ('cascade_rcnn_hrnetv2p_w8', 3)
    >>> out = model(np.zeros((1, 64, 64, 3), "float32"))
    >>> {k: tuple(v.shape) for k, v in out.items()}
    {'boxes': (1, 100, 4), 'scores': (1, 100), 'labels': (1, 100), 'num_detections': (1,)}
    """
    return two_stage_detector(
        CascadeRCNN,
        "cascade_rcnn",
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
