"""`mask_rcnn`: Mask R-CNN on HRNetV2p (or the ResNet-FPN baseline), mmdetection v2's settings."""

from hrnet_keras.detection.mask_rcnn import MaskRCNN
from hrnet_keras.models.faster_rcnn import faster_rcnn
from hrnet_keras.models.fpn import load_resnet_fpn_file
from hrnet_keras.models.weights import load_weights

MASK_ARGUMENTS = ("mask_roi_size", "mask_channels", "mask_convs")


def mask_rcnn(width=32, num_classes=80, *, backbone="hrnetv2p", weights=None, name=None, **kwargs):
    """Mask R-CNN: `faster_rcnn`'s detector and backbone with an FCN mask head.

    mmdetection v2's `mask_rcnn_hrnetv2p_w*` configs: everything of `faster_rcnn` (HRNetV2p
    neck, RPN, 7x7 box head) plus RoIAlign 14x14 over P2..P5, four 3x3 convs of 256, a 2x
    deconvolution and class-specific 28x28 masks.

    Args:
        width, num_classes, backbone: as `faster_rcnn`.
        weights: None, a `.keras` / `.weights.h5` file or a PyTorch checkpoint of the whole
            detector.
        name: the model's name.
        **kwargs: `mask_roi_size`, `mask_channels`, `mask_convs` (`MaskRCNN`) and the other
            arguments of `faster_rcnn`.

    Returns:
        A `hrnet_keras.detection.MaskRCNN`.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import mask_rcnn
    >>> model = mask_rcnn(width=8, num_classes=3, channels=16, fc_channels=32, mask_channels=16)
    >>> tuple(model(np.zeros((1, 64, 64, 3), "float32"))["masks"].shape)
    (1, 100, 28, 28)
    """
    mask_arguments = {key: kwargs.pop(key) for key in MASK_ARGUMENTS if key in kwargs}
    detector = faster_rcnn(width, num_classes, backbone=backbone, weights=None, **kwargs)
    config = detector.get_config()
    config.pop("backbone")
    config["name"] = name or detector.name.replace("faster_rcnn", "mask_rcnn", 1)
    model = MaskRCNN(detector.backbone, **config, **mask_arguments)
    if backbone != "hrnetv2p":
        return load_resnet_fpn_file(model, weights)
    return load_weights(model, weights)
