"""Inferring what a checkpoint holds (model kind, width, classes) from its keys and shapes."""

import dataclasses
import re

from hrnet_keras.convert.detector_heads import (
    BOX_PREFIX,
    CLS_KEY,
    MASK_PREFIX,
    RPN_PREFIX,
    cascade_stages,
    mask_stages,
)
from hrnet_keras.models.spec import SMALL_VARIANTS, hrnet_spec

KINDS = (
    "classifier",
    "segmenter",
    "landmarker",
    "hrnetv2p",
    "faster_rcnn",
    "mask_rcnn",
    "cascade_rcnn",
    "cascade_mask_rcnn",
    "backbone",
)
# The kinds whose checkpoints hold a whole two-stage detector.
DETECTOR_KINDS = ("faster_rcnn", "mask_rcnn", "cascade_rcnn", "cascade_mask_rcnn")
_KIND_OF_LAYOUT = {
    "classification": "classifier",
    "segmentation": "segmenter",
    "face": "landmarker",
    "detection": "hrnetv2p",
    "faster_rcnn": "faster_rcnn",
    "cascade_rcnn": "cascade_rcnn",
    "backbone": "backbone",
}


@dataclasses.dataclass(frozen=True)
class CheckpointInfo:
    """What a canonical checkpoint holds.

    Attributes:
        kind: one of `KINDS`, from the head's keys.
        width: an int C or `"18-small-v1"` / `"18-small-v2"`, from the tensor shapes.
        num_classes: classes (or landmarks) of the head, background excluded for a
            detector; None without one.
        channels: HRNetV2p channels (detection checkpoints only).
        levels: HRNetV2p levels (detection checkpoints only).
        rpn_channels: channels of the RPN's 3x3 conv (detector checkpoints only).
        fc_channels: width of the box head's shared fcs (detector checkpoints only).
        mask_channels: channels of the mask head's convs (Mask R-CNN and Cascade Mask R-CNN
            checkpoints only).
    """

    kind: str
    width: object
    num_classes: object = None
    channels: object = None
    levels: object = None
    rpn_channels: object = None
    fc_channels: object = None
    mask_channels: object = None


def _count(tensors, pattern):
    regex = re.compile(pattern)
    return len({m.group(1) for k in tensors if (m := regex.match(k))})


def _architecture(tensors):
    """(C, stage-1 units, stage-1 planes, modules per stage, units per branch)."""
    return (
        tensors["transition1.0.0.weight"].shape[0],
        _count(tensors, r"^layer1\.(\d+)\."),
        tensors["layer1.0.conv1.weight"].shape[0],
        tuple(_count(tensors, rf"^stage{s}\.(\d+)\.") for s in (2, 3, 4)),
        _count(tensors, r"^stage2\.0\.branches\.0\.(\d+)\."),
    )


def width_of_architecture(arch):
    """The width whose spec has `arch` = (C, stage-1 units, stage-1 planes, modules per
    stage, units per branch), or None."""
    for width in (*SMALL_VARIANTS, int(arch[0])):
        spec = hrnet_spec(width)
        if (spec.widths[0], spec.stage1_units, spec.stage1_planes, spec.modules, spec.units) == (
            tuple(arch)
        ):
            return width
    return None


def detect_width(tensors, path="<checkpoint>"):
    """The HRNet width of a canonical checkpoint: an int C, `"18-small-v1"` or `"18-small-v2"`.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.convert import detect_width
    >>> keys = {"conv1.weight": (64, 3, 3, 3), "transition1.0.0.weight": (18, 256, 3, 3)}
    >>> keys["layer1.0.conv1.weight"] = (64, 64, 1, 1)
    >>> keys.update({f"layer1.{u}.conv2.weight": (64, 64, 3, 3) for u in range(2)})
    >>> keys.update({f"stage{s}.{m}.branches.0.{u}.conv1.weight": (18, 18, 3, 3)
    ...              for s, n in ((2, 1), (3, 3), (4, 2)) for m in range(n) for u in range(2)})
    >>> detect_width({k: np.zeros(v, "float32") for k, v in keys.items()})
    '18-small-v2'
    """
    required = ("conv1.weight", "transition1.0.0.weight", "layer1.0.conv1.weight")
    absent = [k for k in required if k not in tensors]
    if absent:
        sample = sorted(tensors)[:6]
        raise ValueError(
            f"{path!r} is not an HRNet checkpoint: keys {absent} of the HRNet stem, stage 1 "
            f"and first transition are missing. Received: keys {sample}"
            + (" ..." if len(tensors) > len(sample) else "")
        )
    arch = _architecture(tensors)
    width = width_of_architecture(arch)
    if width is not None:
        return width
    raise ValueError(
        f"{path!r} holds an HRNet variant this library does not build: width {arch[0]}, "
        f"{arch[1]} stage-1 units of {arch[2]} planes, modules per stage {arch[3]}, "
        f"{arch[4]} units per branch. Expected W18-small-v1, W18-small-v2 or a full-size "
        f"width (4 stage-1 units, modules (1, 4, 3), 4 units). Received: path={path!r}"
    )


def _num_classes(tensors, kind):
    key = {"classifier": "classifier.weight"}.get(kind, "last_layer.3.weight")
    return int(tensors[key].shape[0]) if key in tensors else None


def detect(checkpoint, path="<checkpoint>"):
    """Infers a `CheckpointInfo` from a `CanonicalCheckpoint`."""
    tensors = checkpoint.tensors
    kind = _KIND_OF_LAYOUT[checkpoint.layout]
    width = detect_width(tensors, path)
    if kind in ("hrnetv2p", *DETECTOR_KINDS):
        channels = _rows(tensors, "neck.reduction.weight")
        levels = _count(tensors, r"^neck\.fpn\.(\d+)\.") or None
        if kind == "hrnetv2p":
            return CheckpointInfo(kind, width, channels=channels, levels=levels)
        box = f"{BOX_PREFIX}0." if cascade_stages(tensors) else BOX_PREFIX
        classes = _rows(tensors, box + CLS_KEY[len(BOX_PREFIX) :])
        mask = f"{MASK_PREFIX}0." if mask_stages(tensors) else MASK_PREFIX
        mask_channels = _rows(tensors, mask + "convs.0.conv.weight")
        if any(k.startswith(MASK_PREFIX) for k in tensors):
            kind = {"faster_rcnn": "mask_rcnn", "cascade_rcnn": "cascade_mask_rcnn"}[kind]
        return CheckpointInfo(
            kind,
            width,
            num_classes=None if classes is None else classes - 1,
            channels=channels,
            levels=levels,
            rpn_channels=_rows(tensors, RPN_PREFIX + "rpn_conv.weight"),
            fc_channels=_rows(tensors, box + "shared_fcs.0.weight"),
            mask_channels=mask_channels,
        )
    return CheckpointInfo(kind, width, num_classes=_num_classes(tensors, kind))


def _rows(tensors, key):
    return int(tensors[key].shape[0]) if key in tensors else None
