"""The keywords every builder shares (`HRNetOptions`), checked once, and the values each
official codebase trained its checkpoints with.

Every public builder (`hrnetv1`, `hrnetv1h`, `hrnetv2`, `hrnetv2p`, `hrnet_classifier`) takes
`input_shape`, `upsample`, `align_corners`, `bn_momentum`, `bn_epsilon`, `sync_bn` and
`recompute` as keywords; `with_options` adds them to a builder, with the defaults of the code whose
checkpoints the builder usually loads, and validates them before anything is built.
"""

import dataclasses
import functools
import inspect

from hrnet_keras.layers import NormOptions
from hrnet_keras.models.recompute import check_recompute

UPSAMPLINGS = ("nearest", "bilinear")


def validate_image_shape(image_shape, arg="input_shape"):
    """Checks an `(height, width, channels)` shape: sizes None or divisible by 32."""
    if (
        not isinstance(image_shape, (tuple, list))
        or len(image_shape) != 3
        or image_shape[-1] is None
    ):
        raise ValueError(
            f"`{arg}` must be (height, width, channels) with known channels. "
            f"Received: {arg}={image_shape!r}"
        )
    for size in image_shape[:2]:
        if size is not None and (not isinstance(size, int) or size < 32 or size % 32):
            raise ValueError(
                f"`{arg}` height and width must be None or multiples of 32 (the lowest "
                f"branch has stride 32). Received: {arg}={tuple(image_shape)!r}"
            )
    return tuple(image_shape)


def check_num_classes(num_classes, arg="num_classes", allow_none=True):
    if num_classes is None and allow_none:
        return
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"`{arg}` must be a positive int. Received: {arg}={num_classes!r}")


def _check_bool(value, arg):
    if not isinstance(value, bool):
        raise ValueError(f"`{arg}` must be True or False. Received: {arg}={value!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class HRNetOptions:
    """The keywords of every builder: how the network upsamples and normalises.

    A checkpoint computes what it was trained to compute only with the `upsample` and
    `align_corners` it was trained with; `bn_momentum` matters for further training.

    Attributes:
        input_shape: `(height, width, channels)`; sizes None or multiples of 32.
        upsample: fusion upsampling, `"nearest"` (the classification, timm and detection
            code) or `"bilinear"` (the segmentation and face code).
        align_corners: bilinear `align_corners` in the fusion and the HRNetV2 concatenation.
        bn_momentum: Keras batch-norm momentum, `1 - torch_momentum`.
        bn_epsilon: batch-norm epsilon (PyTorch's 1e-5; Keras' own default is 1e-3).
        sync_bn: synchronise batch statistics across replicas.
        recompute: activation recomputation in training: `"none"`, `"stages"` or
            `"modules"` (`hrnet_keras.models.recompute`); the same outputs and gradients.

    Example:
    >>> from hrnet_keras.models.options import SEGMENTATION_DEFAULTS
    >>> SEGMENTATION_DEFAULTS.replace(bn_momentum=0.9).keywords()["bn_momentum"]
    0.9
    """

    input_shape: tuple = (None, None, 3)
    upsample: str
    align_corners: bool
    bn_momentum: float
    bn_epsilon: float
    sync_bn: bool = False
    recompute: str = "none"

    def __post_init__(self):
        if self.upsample not in UPSAMPLINGS:
            raise ValueError(
                f"`upsample` must be one of {UPSAMPLINGS}. Received: upsample={self.upsample!r}"
            )
        _check_bool(self.align_corners, "align_corners")
        _check_bool(self.sync_bn, "sync_bn")
        check_recompute(self.recompute)
        NormOptions(self.bn_momentum, self.bn_epsilon)  # checks them now, not mid-build
        object.__setattr__(self, "input_shape", validate_image_shape(self.input_shape))

    @property
    def norm(self):
        """The `NormOptions` of every batch norm of the network."""
        return NormOptions(self.bn_momentum, self.bn_epsilon, self.sync_bn)

    def replace(self, **changes):
        """A copy with `changes`, checked; an unknown keyword is a `TypeError`."""
        unknown = sorted(set(changes) - set(KEYWORDS))
        if unknown:
            raise TypeError(
                f"Unknown keyword {unknown[0]!r}; the shared builder keywords are {KEYWORDS}. "
                f"Received: {unknown[0]}={changes[unknown[0]]!r}"
            )
        return dataclasses.replace(self, **changes)

    def keywords(self, names=None):
        """The options as builder keywords, all or those in `names`."""
        names = KEYWORDS if names is None else names
        return {name: getattr(self, name) for name in names}

    def backbone_arguments(self):
        """The keyword arguments of `HRNetBackbone` (which calls the shape `image_shape`)."""
        arguments = self.keywords()
        arguments["image_shape"] = arguments.pop("input_shape")
        return arguments


KEYWORDS = tuple(f.name for f in dataclasses.fields(HRNetOptions))
# What a family of checkpoints fixes; `input_shape`, `sync_bn` and `recompute` are the user's.
TRAINING_KEYWORDS = ("upsample", "align_corners", "bn_momentum", "bn_epsilon")

# What each official codebase trained with. Keras momentum = 1 - torch momentum; epsilon is
# PyTorch's default 1e-5 everywhere (none of them sets `eps`).
# HRNet/HRNet-Image-Classification, lib/models/cls_hrnet.py: `BN_MOMENTUM = 0.1` and
# `nn.Upsample(scale_factor=2**(j-i), mode='nearest')` in the fusion; timm's hrnet.py the same.
CLASSIFICATION_DEFAULTS = HRNetOptions(
    upsample="nearest", align_corners=False, bn_momentum=0.9, bn_epsilon=1e-5
)
# HRNet/HRNet-Semantic-Segmentation, branches master and pytorch-v1.1, lib/models/seg_hrnet.py:
# `BN_MOMENTUM = 0.01`, fusion `F.interpolate(..., mode='bilinear')` (align_corners False).
# (Its HRNet-OCR branch sets `BN_MOMENTUM = 0.1` and MODEL.ALIGN_CORNERS True: Keras 0.9, True.)
SEGMENTATION_DEFAULTS = HRNetOptions(
    upsample="bilinear", align_corners=False, bn_momentum=0.99, bn_epsilon=1e-5
)
# HRNet/HRNet-Facial-Landmark-Detection, lib/models/hrnet.py: `BN_MOMENTUM = 0.01`, bilinear
# fusion and concatenation with align_corners=False.
FACE_DEFAULTS = HRNetOptions(
    upsample="bilinear", align_corners=False, bn_momentum=0.99, bn_epsilon=1e-5
)
# mmdetection's HRNet backbone and HRFPN: torch's default BN (momentum 0.1) and nearest
# `nn.Upsample` in the fusion, as the ImageNet backbones they start from.
DETECTION_DEFAULTS = HRNetOptions(
    upsample="nearest", align_corners=False, bn_momentum=0.9, bn_epsilon=1e-5
)


def with_options(defaults):
    """Gives a builder the shared keywords, defaulting to `defaults` (an `HRNetOptions`).

    The decorated function takes them as one keyword-only argument `options`; its callers
    pass the keywords themselves (`hrnetv2(width=48, bn_momentum=0.9)`), and its signature
    (`help`, `inspect`) lists them with their defaults.
    """

    def decorate(build):
        @functools.wraps(build)
        def builder(*args, **kwargs):
            given = {k: kwargs.pop(k) for k in KEYWORDS if k in kwargs}
            return build(*args, options=defaults.replace(**given), **kwargs)

        own = [p for p in inspect.signature(build).parameters.values() if p.name != "options"]
        shared = [
            inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=getattr(defaults, k))
            for k in KEYWORDS
        ]
        builder.__signature__ = inspect.Signature(own + shared)
        return builder

    return decorate
