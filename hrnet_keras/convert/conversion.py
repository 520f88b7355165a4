"""`convert_checkpoint`: a PyTorch checkpoint in, a `.keras` file of the matching model out."""

import os

from hrnet_keras.convert.checkpoint_io import read_checkpoint
from hrnet_keras.convert.detect import DETECTOR_KINDS, KINDS, detect
from hrnet_keras.convert.key_layouts import canonicalize
from hrnet_keras.convert.porting import fill_model
from hrnet_keras.models import (
    cascade_mask_rcnn,
    cascade_rcnn,
    faster_rcnn,
    hrnet_backbone,
    hrnet_classifier,
    hrnetv2,
    hrnetv2p,
    mask_rcnn,
)
from hrnet_keras.models.presets import (
    CASCADE_MASK_DETECTOR,
    CLASSIFICATION,
    FAMILIES,
    MASK_DETECTOR,
)
from hrnet_keras.utils.atomic import atomic_path

# How each kind of checkpoint was trained: its family's options in the presets table. A
# checkpoint holding a backbone alone is an ImageNet one.
KIND_DEFAULTS = {family.kind: family.keywords() for family in FAMILIES}
KIND_DEFAULTS["backbone"] = CLASSIFICATION.keywords()
KIND_DEFAULTS["mask_rcnn"] = MASK_DETECTOR.keywords()
KIND_DEFAULTS["cascade_mask_rcnn"] = CASCADE_MASK_DETECTOR.keywords()
# Each mask detector's checkpoint also converts to its box detector (mask heads ignored).
BOX_DETECTOR_OF = {"mask_rcnn": "faster_rcnn", "cascade_mask_rcnn": "cascade_rcnn"}


def build_model(
    kind,
    width,
    *,
    num_classes=None,
    channels=256,
    levels=5,
    upsample=None,
    align_corners=None,
    bn_momentum=None,
    input_shape=(None, None, 3),
    rpn_channels=None,
    fc_channels=1024,
    mask_channels=None,
):
    """Builds the Keras model of a kind of checkpoint, with that kind's defaults.

    `channels` and `levels` are the HRNetV2p neck's; `rpn_channels` (default: `channels`)
    and `fc_channels` the Faster R-CNN heads'; `mask_channels` (default: `channels`) the
    mask heads'.

    Example:
    >>> from hrnet_keras.convert import build_model
    >>> model = build_model("landmarker", "18-small-v1", num_classes=5, input_shape=(64, 64, 3))
    >>> model.get_layer("stage2_module0_fuse_1_to_0_up").interpolation
    'bilinear'
    """
    if kind not in KINDS:
        raise ValueError(f"`model` must be one of {KINDS}. Received: model={kind!r}")
    options = dict(KIND_DEFAULTS[kind])
    given = {"upsample": upsample, "align_corners": align_corners, "bn_momentum": bn_momentum}
    options.update({k: v for k, v in given.items() if v is not None})
    if kind == "classifier":
        if options["align_corners"]:
            raise ValueError(
                "Classifiers upsample by integer factors; `align_corners` does not apply. "
                "Received: align_corners=True"
            )
        del options["align_corners"]
        return hrnet_classifier(width, num_classes, input_shape=input_shape, **options)
    if kind in ("segmenter", "landmarker"):
        return hrnetv2(width, num_classes, input_shape=input_shape, **options)
    if kind == "hrnetv2p":
        return hrnetv2p(width, channels=channels, levels=levels, input_shape=input_shape, **options)
    if kind in DETECTOR_KINDS:
        builder = {
            "cascade_rcnn": cascade_rcnn,
            "mask_rcnn": mask_rcnn,
            "cascade_mask_rcnn": cascade_mask_rcnn,
        }.get(kind, faster_rcnn)
        extra = {"mask_channels": mask_channels or channels} if kind in BOX_DETECTOR_OF else {}
        return builder(
            width,
            num_classes,
            channels=channels,
            input_shape=input_shape,
            rpn_channels=rpn_channels or channels,
            fc_channels=fc_channels,
            **extra,
            **options,
        )
    return hrnet_backbone(width, input_shape=input_shape, **options)


def _resolve(info, path, *, model, width, num_classes, drop_head):
    """Checks the requested kind, width and classes against the checkpoint."""
    # A detector's backbone and neck are an HRNetV2p.
    parts = ("backbone", "hrnetv2p") if info.kind in DETECTOR_KINDS else ("backbone",)
    if info.kind in BOX_DETECTOR_OF:
        parts = (*parts, BOX_DETECTOR_OF[info.kind])
    if model is not None and model not in (info.kind, *parts):
        raise ValueError(
            f"{path!r} holds a {info.kind} checkpoint (from its head's keys), not a {model} "
            f"(any checkpoint also converts to model='backbone', a Faster R-CNN's to "
            f"model='hrnetv2p'). Received: model={model!r}"
        )
    if width is not None and width != info.width:
        raise ValueError(
            f"{path!r} holds HRNet weights of width {info.width!r}, not {width!r}. "
            f"Received: width={width!r}"
        )
    if model in parts and model not in BOX_DETECTOR_OF.values():
        if num_classes is not None or drop_head:
            raise ValueError(
                f"A {model} has no class head; `num_classes` and `drop_head` do not apply. "
                f"Received: num_classes={num_classes!r}, drop_head={drop_head!r}"
            )
        return None
    if info.kind in ("faster_rcnn", "mask_rcnn") and info.num_classes is None:
        if num_classes is not None and drop_head:
            return num_classes
        raise ValueError(
            f"{path!r} holds Faster R-CNN heads without the box classifier "
            "(roi_head.bbox_head.fc_cls.weight, or bbox_head.fc_cls.weight in mmdetection "
            "1.x's layout), so its classes are unknown; convert its backbone and neck with "
            "model='hrnetv2p', or pass num_classes with drop_head=True for new class layers. "
            f"Received: path={path!r}"
        )
    if num_classes is not None and info.num_classes is None:
        raise ValueError(
            f"{path!r} holds a {info.kind} without a class head; `num_classes` does not "
            f"apply. Received: num_classes={num_classes!r}"
        )
    if num_classes is not None and num_classes != info.num_classes and not drop_head:
        raise ValueError(
            f"{path!r} holds a head with {info.num_classes} classes, not {num_classes}; "
            f"pass drop_head=True (--drop-head) to start a new {num_classes}-class head. "
            f"Received: num_classes={num_classes!r}"
        )
    if drop_head and info.num_classes is None:
        raise ValueError(
            f"{path!r} holds a {info.kind} without a class head to drop. "
            f"Received: drop_head={drop_head!r}"
        )
    return num_classes if num_classes is not None else info.num_classes


def _parse_width(width):
    if isinstance(width, str) and width.isdigit():
        return int(width)
    return width


def convert_checkpoint(
    checkpoint,
    output,
    *,
    model=None,
    width=None,
    num_classes=None,
    upsample=None,
    align_corners=None,
    bn_momentum=None,
    drop_head=False,
    input_shape=(None, None, 3),
    strict=True,
):
    """Converts a PyTorch HRNet checkpoint to a `.keras` file.

    The kind, width and number of classes are read from the checkpoint; given explicitly
    they are checked against it. Nothing is written unless every weight fits (the file is
    written under a temporary name in the output folder and renamed at the end).

    Args:
        checkpoint: `.pth`, `.pt`, `.bin` or `.safetensors` file.
        output: the `.keras` file to write.
        model: `"classifier"`, `"segmenter"`, `"landmarker"`, `"hrnetv2p"`, `"faster_rcnn"`,
            `"mask_rcnn"`, `"cascade_rcnn"`, `"cascade_mask_rcnn"` or `"backbone"`; None to
            infer it from the head's keys. Any checkpoint converts to `"backbone"` (its head
            tensors are then reported as ignored), with the upsampling of the kind it was
            trained as; a detector's also to `"hrnetv2p"` (backbone and neck), a Mask
            R-CNN's also to `"faster_rcnn"` and a Cascade Mask R-CNN's to `"cascade_rcnn"`
            (their mask heads ignored).
        width: expected width (int, `"18-small-v1"`, `"18-small-v2"`); None to infer it.
        num_classes: expected classes (a detector's without background); with
            `drop_head`, the classes of the new head.
        upsample: fusion upsampling; default `"nearest"` for classifier / hrnetv2p /
            faster_rcnn / backbone, `"bilinear"` for segmenter / landmarker.
        align_corners: bilinear `align_corners`; default False. The HRNet-OCR branch's
            segmentation checkpoints need True.
        bn_momentum: Keras BN momentum; default 0.9 (nearest kinds) or 0.99 (bilinear kinds).
        drop_head: leave the final classification layer randomly initialised (a
            detector's `fc_cls` and `fc_reg`).
        input_shape: the model's `(height, width, 3)`.
        strict: see `load_torch_weights`.

    Returns:
        The filled Keras model and its `PortReport`.
    """
    path, output = str(checkpoint), str(output)
    if not output.endswith(".keras"):
        raise ValueError(f"`output` must be a .keras file. Received: output={output!r}")
    if not os.path.isdir(os.path.dirname(os.path.abspath(output))):
        raise FileNotFoundError(f"The folder of `output` does not exist. Received: {output=}")
    canonical = canonicalize(read_checkpoint(path))
    info = detect(canonical, path)
    classes = _resolve(
        info,
        path,
        model=model,
        width=_parse_width(width),
        num_classes=num_classes,
        drop_head=drop_head,
    )
    # A task checkpoint converted to a backbone keeps the upsampling it was trained with.
    defaults = KIND_DEFAULTS[info.kind]
    backbone_only = model == "backbone" and info.kind != "backbone"
    keras_model = build_model(
        model or info.kind,
        info.width,
        num_classes=classes,
        channels=info.channels or 256,
        levels=info.levels or 5,
        upsample=defaults["upsample"] if upsample is None else upsample,
        align_corners=defaults["align_corners"] if align_corners is None else align_corners,
        bn_momentum=defaults["bn_momentum"] if bn_momentum is None else bn_momentum,
        input_shape=input_shape,
        rpn_channels=info.rpn_channels,
        fc_channels=info.fc_channels or 1024,
        mask_channels=info.mask_channels,
    )
    report = fill_model(
        keras_model,
        canonical,
        strict=strict,
        drop_head=drop_head,
        backbone_only=backbone_only,
        path=path,
    )
    with atomic_path(output) as partial:
        keras_model.save(partial)
    return keras_model, report
