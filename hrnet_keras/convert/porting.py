"""The strict fill: every Keras weight from exactly one checkpoint tensor of the same shape."""

import dataclasses
import re

import keras

from hrnet_keras.convert.checkpoint_io import read_checkpoint
from hrnet_keras.convert.detect import detect, detect_width, width_of_architecture
from hrnet_keras.convert.detector_heads import head_assignments, is_head_key, mask_keys
from hrnet_keras.convert.key_layouts import canonicalize
from hrnet_keras.convert.name_map import (
    FINAL_LAYERS,
    to_keras_layout,
    torch_module_name,
    torch_param_name,
)

_LISTED = 12
# PyTorch modules of the backbone (stem, stages, transitions) in the canonical layout.
BACKBONE_MODULES = re.compile(r"^(conv\d|bn\d|layer1|transition\d|stage\d)\.")


@dataclasses.dataclass
class PortReport:
    """What `load_torch_weights` did.

    Attributes:
        filled: number of Keras variables filled from the checkpoint.
        skipped: layers deliberately left as initialised (`drop_head`, `backbone_only`).
        ignored: checkpoint keys deliberately not used (losses, the heads of a detector
            whose backbone and neck alone are filled).
        notes: remarks on adapted layouts.
        missing, unexpected, mismatched: problems tolerated by `strict=False`.
    """

    filled: int = 0
    skipped: list = dataclasses.field(default_factory=list)
    ignored: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    missing: list = dataclasses.field(default_factory=list)
    unexpected: list = dataclasses.field(default_factory=list)
    mismatched: list = dataclasses.field(default_factory=list)


def _layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        elif layer.weights:
            yield layer


def _listing(title, items):
    shown = ", ".join(items[:_LISTED])
    more = f", ... and {len(items) - _LISTED} more" if len(items) > _LISTED else ""
    return f"\n  {title} ({len(items)}): {shown}{more}"


def model_width(model):
    """The width of an HRNet Keras model, read from its layers (None if not an HRNet)."""
    names = {layer.name: layer for layer in _layers(model)}
    if "transition1_branch0_conv" not in names or "stage1_unit0_conv1" not in names:
        return None

    def count(pattern):
        regex = re.compile(pattern)
        return len({m.group(1) for n in names if (m := regex.match(n))})

    arch = (
        names["transition1_branch0_conv"].filters,
        count(r"^stage1_unit(\d+)_"),
        names["stage1_unit0_conv1"].filters,
        tuple(count(rf"^stage{s}_module(\d+)_") for s in (2, 3, 4)),
        count(r"^stage2_module0_branch0_unit(\d+)_"),
    )
    return width_of_architecture(arch)


def _detector_heads(model):
    """`(rpn_head, roi_head)` of a two-stage detector (`hrnet_keras.detection.FasterRCNN`),
    `(rpn_head, [stage heads])` of a `CascadeRCNN`, else None."""
    rpn = getattr(model, "rpn_head", None)
    boxes = getattr(model, "roi_heads", None) or [getattr(model, "roi_head", None)]
    if not hasattr(model, "backbone") or not isinstance(rpn, keras.layers.Layer):
        return None
    if not all(isinstance(h, keras.layers.Layer) for h in boxes):
        return None
    return rpn, (list(boxes) if hasattr(model, "roi_heads") else boxes[0])


def _final_units(model):
    for layer in _layers(model):
        if layer.name == "predictions":
            return layer.units
        if layer.name == "head_logits":
            return layer.filters
    return None


def _check_model_fits(model, checkpoint, path, drop_head, backbone_only):
    """Clear errors for the usual mistakes before the key-by-key listing."""
    info = detect(checkpoint, path)
    width = model_width(model)
    if width is not None and width != info.width:
        raise ValueError(
            f"{path!r} holds HRNet weights of width {info.width!r}, but model "
            f"{model.name!r} was built with width {width!r}. Build the model with "
            f"width={info.width!r}. Received: path={path!r}"
        )
    units = _final_units(model)
    if _detector_heads(model) is not None:
        units = model.num_classes
    if (
        not (drop_head or backbone_only)
        and units is not None
        and info.num_classes not in (None, units)
    ):
        raise ValueError(
            f"{path!r} holds a head with {info.num_classes} classes, but model {model.name!r} "
            f"predicts {units}. Build it with num_classes={info.num_classes}, or pass "
            f"drop_head=True to leave the final layer random for fine-tuning. "
            f"Received: path={path!r}"
        )
    return info


def fill_model(
    model, checkpoint, *, strict=True, drop_head=False, backbone_only=False, path="<checkpoint>"
):
    """Fills `model` from a `CanonicalCheckpoint`; see `load_torch_weights`."""
    tensors = checkpoint.tensors
    report = PortReport(ignored=list(checkpoint.ignored), notes=list(checkpoint.notes))
    used, assignments = set(), []
    heads = _detector_heads(model)
    if backbone_only:
        head_keys = [k for k in tensors if not BACKBONE_MODULES.match(k)]
        report.ignored += head_keys
        used.update(head_keys)
        if heads is not None:
            report.skipped += [heads[0].name] + [
                head.name for head in (heads[1] if isinstance(heads[1], list) else [heads[1]])
            ]
    elif heads is None:
        # A detector checkpoint filling its backbone and neck (an HRNetV2p) alone.
        detector_keys = [k for k in tensors if is_head_key(k)]
        report.ignored += detector_keys
        used.update(detector_keys)
        if detector_keys:
            report.notes.append(
                f"ignored {len(detector_keys)} detector-head tensors (rpn_head.*, "
                f"roi_head.*): model {model.name!r} has no detector heads"
            )
    else:
        # A Cascade Mask R-CNN's stages have a list of mask heads.
        mask_head = getattr(model, "mask_heads", None) or getattr(model, "mask_head", None)
        masks = mask_keys(tensors)
        if mask_head is None and masks:
            report.ignored += masks
            used.update(masks)
            report.notes.append(
                f"ignored {len(masks)} mask-head tensors: model {model.name!r} has no mask head"
            )
        fill = head_assignments(*heads, tensors, drop_head=drop_head, mask_head=mask_head)
        assignments += fill.assignments
        used.update(fill.used)
        report.skipped += fill.skipped
        report.missing += fill.missing
        report.mismatched += fill.mismatched
    for layer in _layers(model if heads is None else model.backbone):
        module = torch_module_name(layer.name)
        if backbone_only and not (module and BACKBONE_MODULES.match(module + ".")):
            report.skipped.append(layer.name)
            continue
        if drop_head and layer.name in FINAL_LAYERS:
            report.skipped.append(layer.name)
            if module:
                used.update(k for k in tensors if k.startswith(module + "."))
            continue
        if module is None:
            report.missing.append(f"{layer.name} (a Keras layer with no PyTorch counterpart)")
            continue
        kind = type(layer).__name__
        for variable in layer.weights:
            key = f"{module}.{torch_param_name(variable.name)}"
            if key not in tensors:
                report.missing.append(key)
                continue
            used.add(key)
            array = to_keras_layout(tensors[key], variable.name, kind)
            if tuple(array.shape) != tuple(variable.shape):
                report.mismatched.append(
                    f"{key} {tuple(tensors[key].shape)} for {layer.name}/{variable.name} "
                    f"{tuple(variable.shape)}"
                )
                continue
            assignments.append((variable, array))
    report.unexpected = sorted(set(tensors) - used)
    if strict and (report.missing or report.unexpected or report.mismatched):
        message = f"{path!r} does not fit model {model.name!r} (strict loading)."
        for title, items in (
            ("missing in the checkpoint", report.missing),
            ("unexpected in the checkpoint", report.unexpected),
            ("mis-shaped", report.mismatched),
        ):
            if items:
                message += _listing(title, items)
        raise ValueError(f"{message}\nReceived: path={path!r}")
    for variable, array in assignments:
        variable.assign(array.astype(variable.dtype) if array.dtype != variable.dtype else array)
    report.filled = len(assignments)
    return report


def load_torch_weights(model, path, *, strict=True, drop_head=False, backbone_only=False):
    """Fills an HRNet Keras model from a published PyTorch checkpoint.

    Reads `.pth`/`.pt`/`.bin` files with `torch.load(weights_only=True)` and `.safetensors`
    files without torch; accepts every layout described in `canonicalize`. A
    `hrnet_keras.detection.FasterRCNN` is filled whole (backbone, neck, RPN and box head)
    from an mmdetection Faster R-CNN checkpoint; an `hrnetv2p` from such a checkpoint takes
    its backbone and neck, the heads being reported as ignored.

    Args:
        model: a model from `hrnet_keras.models` whose width, head and class count match
            the checkpoint (and, for exact outputs, its `upsample` / `align_corners`).
        path: the checkpoint file.
        strict: require every Keras weight filled, every checkpoint tensor used and all
            shapes equal; otherwise fill what fits and report the rest.
        drop_head: leave the final classification layer (`predictions` or `head_logits`;
            a detector's `fc_cls` and `fc_reg`) as initialised, for fine-tuning on another
            number of classes.
        backbone_only: fill the backbone (stem, stages, transitions) alone, strictly, and
            leave every head layer as initialised: how the segmentation, face and detection
            models start from the ImageNet checkpoints. The checkpoint's head tensors are
            reported as ignored.

    Returns:
        A `PortReport`.
    """
    path = str(path)
    checkpoint = canonicalize(read_checkpoint(path))
    if strict:
        _check_model_fits(model, checkpoint, path, drop_head, backbone_only)
    else:
        detect_width(checkpoint.tensors, path)
    return fill_model(
        model,
        checkpoint,
        strict=strict,
        drop_head=drop_head,
        backbone_only=backbone_only,
        path=path,
    )
