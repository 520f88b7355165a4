"""Bringing every published key layout to one canonical layout (the official classification
code's names, plus `last_layer.*` for dense heads and `neck.*` for HRNetV2p)."""

import dataclasses
import re

import numpy as np

from hrnet_keras.convert.detector_heads import (
    DETECTOR_PREFIXES,
    cascade_stages,
    split_detector_heads,
)

_NECK_PATTERNS = (
    # HRNet's own detection code: nn.Sequential(conv) and a ModuleList of convs.
    (re.compile(r"^neck\.reduction_conv\.(?:0\.|conv\.)?(weight|bias)$"), "neck.reduction.{0}"),
    (re.compile(r"^neck\.fpn_conv\.(\d+)\.(weight|bias)$"), "neck.fpn.{0}.{1}"),
    # mmdetection v2+: ConvModule wraps each conv as `.conv`.
    (re.compile(r"^neck\.fpn_convs\.(\d+)\.(?:conv\.)?(weight|bias)$"), "neck.fpn.{0}.{1}"),
)


@dataclasses.dataclass
class CanonicalCheckpoint:
    """A state dict in the canonical layout.

    Attributes:
        tensors: canonical key -> numpy array.
        layout: `"classification"`, `"segmentation"`, `"face"`, `"detection"` (backbone
            and neck), `"cascade_rcnn"` (the same with Cascade R-CNN heads, one box head
            per stage), `"faster_rcnn"` (backbone, neck and Faster R-CNN heads, the heads under
            mmdetection v2's keys) or `"backbone"` (no head keys).
        ignored: original keys deliberately left out (losses, mask heads, the heads of
            detectors not built here).
        notes: human-readable remarks on what was adapted.
    """

    tensors: dict
    layout: str
    ignored: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)


def _strip_prefix(tensors, prefix):
    return {k[len(prefix) :] if k.startswith(prefix) else k: v for k, v in tensors.items()}


def _drop(tensors, ignored, predicate):
    kept = {}
    for key, value in tensors.items():
        if predicate(key):
            ignored.append(key)
        else:
            kept[key] = value
    return kept


def _unwrap(tensors, ignored, notes):
    """Removes DataParallel's `module.` and the segmentation code's `model.`/`loss.` wrapper."""
    if tensors and all(k.startswith("module.") for k in tensors):
        tensors = _strip_prefix(tensors, "module.")
    losses = [k for k in tensors if k.startswith("loss.")]
    if losses:
        tensors = _drop(tensors, ignored, lambda k: k.startswith("loss."))
        notes.append(f"ignored {len(losses)} loss tensors (loss.*)")
    if tensors and all(k.startswith("model.") for k in tensors):
        tensors = _strip_prefix(tensors, "model.")
    if tensors and all(k.startswith("module.") for k in tensors):
        tensors = _strip_prefix(tensors, "module.")
    return tensors


def _canonical_detection(tensors, ignored, notes):
    tensors, heads = split_detector_heads(tensors)
    if heads is not None:
        ignored += heads.ignored
        notes += heads.notes
    out = dict(heads.tensors) if heads is not None else {}
    for key, value in tensors.items():
        if key.startswith("backbone."):
            out[key[len("backbone.") :]] = value
            continue
        for pattern, template in _NECK_PATTERNS:
            match = pattern.match(key)
            if match:
                out[template.format(*match.groups())] = value
                break
        else:
            out[key] = value  # unknown: left for the strict check to report
    return out


def _zero_head_biases(tensors, notes):
    """timm's SSLD weights have head convs without bias; zero bias is exactly equivalent."""
    added = []
    for key in list(tensors):
        match = re.match(r"^(final_layer\.0|downsamp_modules\.\d+\.0)\.weight$", key)
        bias_key = f"{match.group(1)}.bias" if match else None
        if bias_key and bias_key not in tensors:
            tensors[bias_key] = np.zeros(tensors[key].shape[0], np.float32)
            added.append(bias_key)
    if added:
        notes.append(
            f"head convolutions without bias (timm SSLD weights): {len(added)} biases set to "
            "zero, which computes exactly the same function"
        )
    return tensors


def _layout_of(tensors, face):
    if any(k.startswith(DETECTOR_PREFIXES) for k in tensors):
        return "cascade_rcnn" if cascade_stages(tensors) else "faster_rcnn"
    if any(k.startswith("neck.") for k in tensors):
        return "detection"
    if any(k.startswith("last_layer.") for k in tensors):
        return "face" if face else "segmentation"
    if any(k.startswith(("classifier.", "incre_modules.", "final_layer.")) for k in tensors):
        return "classification"
    return "backbone"


def canonicalize(tensors):
    """Maps any supported layout to the canonical one.

    Handles DataParallel's `module.` prefix; the segmentation code's `model.` prefix and
    `loss.*` tensors; checkpoints with or without `num_batches_tracked`; the face code's
    `head.{0,1,3}` (renamed `last_layer.*`); detection checkpoints (`backbone.` prefix, the
    neck as `neck.reduction_conv[.0|.conv].*` and `neck.fpn_conv.{i}.*` or
    `neck.fpn_convs.{i}.conv.*`, Faster R-CNN heads brought to mmdetection v2's layout by
    `split_detector_heads`); timm's SSLD heads without bias.

    Args:
        tensors: dict of original key -> numpy array.

    Returns:
        A `CanonicalCheckpoint`.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.convert import canonicalize
    >>> ckpt = canonicalize({
    ...     "model.conv1.weight": np.zeros((64, 3, 3, 3)),
    ...     "model.last_layer.3.weight": np.zeros((19, 720, 1, 1)),
    ...     "loss.criterion.weight": np.ones(19),
    ... })
    >>> ckpt.layout, sorted(ckpt.tensors), ckpt.ignored
    ('segmentation', ['conv1.weight', 'last_layer.3.weight'], ['loss.criterion.weight'])
    """
    ignored, notes = [], []
    tensors = _unwrap(dict(tensors), ignored, notes)
    # BN step counters carry no weights (older checkpoints lack them altogether).
    tensors = {k: v for k, v in tensors.items() if not k.endswith(".num_batches_tracked")}
    if any(k.startswith(("backbone.", "neck.")) for k in tensors):
        tensors = _canonical_detection(tensors, ignored, notes)
    face = any(re.match(r"^head\.\d+\.", k) for k in tensors)
    if face:
        tensors = {
            "last_layer." + k[len("head.") :] if re.match(r"^head\.\d+\.", k) else k: v
            for k, v in tensors.items()
        }
    tensors = _zero_head_biases(tensors, notes)
    return CanonicalCheckpoint(tensors, _layout_of(tensors, face), ignored, notes)
