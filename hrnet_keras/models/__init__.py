"""HRNet models: the backbone and the builders of every output representation and task.

Example:
>>> import hrnet_keras
>>> model = hrnet_keras.models.hrnetv2(width=8, input_shape=(64, 64, 3))
>>> tuple(model.output.shape)
(None, 16, 16, 120)
"""

from hrnet_keras.models.backbone import HRNetBackbone
from hrnet_keras.models.cascade_mask_rcnn import cascade_mask_rcnn
from hrnet_keras.models.cascade_rcnn import cascade_rcnn
from hrnet_keras.models.classifier import hrnet_classifier
from hrnet_keras.models.complexity import multiply_adds
from hrnet_keras.models.faster_rcnn import faster_rcnn
from hrnet_keras.models.fold_batch_norm import fold_batch_norm
from hrnet_keras.models.fpn import fpn, resnet_fpn
from hrnet_keras.models.hrnetv1 import hrnetv1, hrnetv1h
from hrnet_keras.models.hrnetv2 import hrnetv2
from hrnet_keras.models.hrnetv2p import hrnetv2p
from hrnet_keras.models.mask_rcnn import mask_rcnn
from hrnet_keras.models.options import HRNetOptions
from hrnet_keras.models.resnet import ResNetBackbone
from hrnet_keras.models.spec import PUBLISHED_WIDTHS, SMALL_VARIANTS, HRNetSpec, hrnet_spec

__all__ = [
    "PUBLISHED_WIDTHS",
    "SMALL_VARIANTS",
    "HRNetBackbone",
    "HRNetOptions",
    "HRNetSpec",
    "ResNetBackbone",
    "cascade_mask_rcnn",
    "cascade_rcnn",
    "faster_rcnn",
    "fold_batch_norm",
    "fpn",
    "hrnet_backbone",
    "hrnet_classifier",
    "hrnet_spec",
    "hrnetv1",
    "hrnetv1h",
    "hrnetv2",
    "hrnetv2p",
    "mask_rcnn",
    "multiply_adds",
    "resnet_fpn",
]


def hrnet_backbone(width=18, *, input_shape=(None, None, 3), **kwargs):
    """`HRNetBackbone` with the builders' `input_shape` argument name.

    Example:
    >>> from hrnet_keras.models import hrnet_backbone
    >>> sorted(hrnet_backbone(width=8, input_shape=(64, 64, 3)).output)
    ['P2', 'P3', 'P4', 'P5']
    """
    return HRNetBackbone(width=width, image_shape=input_shape, **kwargs)
