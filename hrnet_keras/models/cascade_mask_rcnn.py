"""`cascade_mask_rcnn`: Cascade Mask R-CNN on HRNetV2p (or the ResNet-FPN baseline) with
mmdetection v2's settings."""

from hrnet_keras.detection.cascade_mask_rcnn import CascadeMaskRCNN
from hrnet_keras.models.faster_rcnn import two_stage_detector


def cascade_mask_rcnn(
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
    """Cascade Mask R-CNN, as mmdetection v2's `cascade_mask_rcnn_hrnetv2p_w*`.

    `cascade_rcnn`'s detector (three stages, IoU 0.5 / 0.6 / 0.7) with Mask R-CNN's FCN
    mask head in every stage: RoIAlign 14x14 over P2..P5, four 3x3 convs of 256, a 2x
    deconvolution and class-specific 28x28 masks; at inference the three heads' masks of
    the final boxes are averaged.

    Args:
        width, num_classes, backbone, frozen_stages, input_shape, weights, channels,
            upsample, align_corners, bn_momentum, bn_epsilon, sync_bn, norm_eval, name:
            as `faster_rcnn`.
        **detector_kwargs: the other arguments of `hrnet_keras.detection.CascadeMaskRCNN`
            (`mask_roi_size`, `mask_channels`, `mask_convs`, stages, thresholds, proposal
            counts, sampler sizes, `seed`).

    Returns:
        A `hrnet_keras.detection.CascadeMaskRCNN`.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import cascade_mask_rcnn
    >>> model = cascade_mask_rcnn(width=8, num_classes=3, channels=16, fc_channels=32,
    ...                           mask_channels=16)
    >>> model.name, len(model.mask_heads)
    ('cascade_mask_rcnn_hrnetv2p_w8', 3)
    >>> tuple(model(np.zeros((1, 64, 64, 3), "float32"))["masks"].shape)
    (1, 100, 28, 28)
    """
    return two_stage_detector(
        CascadeMaskRCNN,
        "cascade_mask_rcnn",
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
