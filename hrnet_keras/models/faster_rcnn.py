"""`faster_rcnn`: Faster R-CNN on HRNetV2p with mmdetection v2's settings."""

from hrnet_keras.detection.faster_rcnn import FasterRCNN
from hrnet_keras.models.hrnetv2p import hrnetv2p
from hrnet_keras.models.options import check_num_classes
from hrnet_keras.models.weights import load_weights


def faster_rcnn(
    width=32,
    num_classes=80,
    *,
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
    """Faster R-CNN with an HRNetV2p neck (HRFPN, 5 levels of `channels`): the paper's detector.

    RPN over P2..P6 (3 anchors a location), RoIAlign 7x7 over P2..P5 and a two-fc box head,
    as mmdetection v2's `faster_rcnn_hrnetv2p_w*` configs.

    Args:
        width: HRNet width (18, 32, 40, 48 or a small variant name).
        num_classes: object classes, background excluded (80 for COCO).
        input_shape: `(height, width, 3)`, sizes None or multiples of 32.
        weights: None, a `.keras` / `.weights.h5` file or a PyTorch checkpoint.
        channels: channels of every pyramid level.
        upsample, align_corners, bn_momentum, bn_epsilon, sync_bn: as `hrnetv2p`.
        norm_eval: train with the backbone's batch-norm statistics frozen, as mmdetection's
            HRNet does by default.
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
    """
    check_num_classes(num_classes, allow_none=False)
    neck = hrnetv2p(
        width,
        channels=channels,
        levels=5,
        input_shape=input_shape,
        upsample=upsample,
        align_corners=align_corners,
        bn_momentum=bn_momentum,
        bn_epsilon=bn_epsilon,
        sync_bn=sync_bn,
    )
    model = FasterRCNN(
        neck,
        num_classes,
        norm_eval=norm_eval,
        name=name or f"faster_rcnn_{neck.name}",
        **detector_kwargs,
    )
    return load_weights(model, weights)
