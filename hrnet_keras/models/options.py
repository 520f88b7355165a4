"""Arguments shared by every builder, checked once."""

from hrnet_keras.layers import NormOptions
from hrnet_keras.models.backbone import HRNetBackbone, validate_image_shape


def check_num_classes(num_classes, arg="num_classes", allow_none=True):
    if num_classes is None and allow_none:
        return
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"`{arg}` must be a positive int. Received: {arg}={num_classes!r}")


def backbone_and_norm(
    width, *, input_shape, upsample, align_corners, bn_momentum, bn_epsilon, sync_bn
):
    """The backbone a builder composes, and the norm options its head shares."""
    norm = NormOptions(bn_momentum, bn_epsilon, sync_bn)
    input_shape = validate_image_shape(input_shape, "input_shape")
    backbone = HRNetBackbone(
        width=width,
        upsample=upsample,
        align_corners=align_corners,
        bn_momentum=bn_momentum,
        bn_epsilon=bn_epsilon,
        sync_bn=sync_bn,
        image_shape=input_shape,
    )
    return backbone, norm
