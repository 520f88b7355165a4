"""The heads of mmdetection's Faster R-CNN (RPN and Shared2FC box head), Mask R-CNN (FCN mask
head) and Cascade (Mask) R-CNN (one box head and mask head per stage): their key layouts,
brought to one, and how their tensors fill the Keras `RPNHead`, `RoIBoxHead`(s) and
`FCNMaskHead`(s).

Backbone-agnostic: `split_detector_heads` takes the head tensors out of a state dict and
`head_assignments` fills the heads of any `FasterRCNN`, whatever converts its backbone.
"""

import dataclasses
import re

import numpy as np

from hrnet_keras.convert.name_map import to_keras_layout, torch_param_name

# Top-level modules of an mmdetection detector besides `backbone` and `neck`.
DETECTOR_PREFIXES = (
    "rpn_head.",
    "roi_head.",
    "bbox_head.",
    "mask_head.",
    "bbox_roi_extractor.",
    "mask_roi_extractor.",
    "semantic_head.",
)
RPN_PREFIX = "rpn_head."
BOX_PREFIX = "roi_head.bbox_head."
# mmdetection 1.x (and the HRNet repository's fork of it) had no `roi_head` wrapper.
V1_BOX_PREFIX = "bbox_head."
MASK_PREFIX = "roi_head.mask_head."
# RoI extractors (RoIAlign) hold no weights.
EXTRACTOR_PREFIXES = ("mask_roi_extractor.", "roi_head.mask_roi_extractor.")
# Cascade R-CNN and HTC keep one box head per stage: `bbox_head.{stage}.`.
_STAGED_BOX = re.compile(r"^(roi_head\.)?bbox_head\.\d+\.")
# mmdetection v2's Cascade (Mask) R-CNN: `roi_head.bbox_head.{stage}.`, converted.
CASCADE_BOX = re.compile(r"^roi_head\.bbox_head\.(\d+)\.")
# mmdetection v2's Cascade Mask R-CNN: `roi_head.mask_head.{stage}.`.
CASCADE_MASK = re.compile(r"^roi_head\.mask_head\.(\d+)\.")
# HTC's semantic branch: an HTC is not a Cascade R-CNN.
HTC_PREFIXES = ("roi_head.semantic_head.", "semantic_head.")

# Keras sublayer of `RPNHead` / `RoIBoxHead` -> mmdetection v2 module.
RPN_LAYERS = {
    "rpn_conv": "rpn_head.rpn_conv",
    "rpn_cls": "rpn_head.rpn_cls",
    "rpn_reg": "rpn_head.rpn_reg",
}
BOX_LAYERS = {
    "shared_fc1": "roi_head.bbox_head.shared_fcs.0",
    "shared_fc2": "roi_head.bbox_head.shared_fcs.1",
    "fc_cls": "roi_head.bbox_head.fc_cls",
    "fc_reg": "roi_head.bbox_head.fc_reg",
}
# Keras sublayer of `FCNMaskHead` -> mmdetection v2 module (`convs.{i}` added per conv).
MASK_LAYERS = {
    "upsample": "roi_head.mask_head.upsample",
    "conv_logits": "roi_head.mask_head.conv_logits",
}
# The class-dependent layers, which `drop_head` leaves as initialised.
CLASS_LAYERS = ("fc_cls", "fc_reg", "conv_logits")
CLS_KEY = BOX_PREFIX + "fc_cls.weight"


def is_head_key(key):
    """Whether a canonical key belongs to a detector head (`rpn_head.*`, `roi_head.*`)."""
    return key.startswith(DETECTOR_PREFIXES)


@dataclasses.dataclass
class DetectorHeads:
    """The heads of a detector checkpoint.

    Attributes:
        tensors: mmdetection v2 key -> array (background class last, class-specific
            regression without background rows, or one box head per stage under
            `roi_head.bbox_head.{stage}.`); empty when the heads are not those of a Faster
            or Cascade R-CNN (HTC, mmdetection 1.x cascades) and were all ignored.
        layout: `"mmdet_v2"`, `"mmdet_v1"`, `"cascade"` (mmdetection v2's Cascade R-CNN,
            with one mask head per stage under `roi_head.mask_head.{stage}.` for a Cascade
            Mask R-CNN) or `"other"`.
        ignored: original keys deliberately not converted (other detectors).
        notes: what was adapted.
    """

    tensors: dict
    layout: str
    ignored: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)


def _v1_to_v2(tensors, notes):
    """mmdetection 1.x's box head: background FIRST in `fc_cls`, and `fc_reg` has rows for
    it (4 * (K + 1)), which inference never reads. Moved last, and dropped."""
    out, dropped = {}, False
    classes = tensors.get(V1_BOX_PREFIX + "fc_cls.weight")
    rows = None if classes is None else classes.shape[0]
    for key, value in tensors.items():
        if not key.startswith(V1_BOX_PREFIX):
            out[key] = value
            continue
        if key.startswith(V1_BOX_PREFIX + "fc_cls."):
            value = np.concatenate([value[1:], value[:1]], axis=0)
        elif key.startswith(V1_BOX_PREFIX + "fc_reg.") and rows and value.shape[0] == 4 * rows:
            # Otherwise left as it is, for the strict check to report its shape.
            value, dropped = value[4:], True
        out["roi_head." + key] = value
    notes.append(
        "mmdetection 1.x box head (bbox_head.*): background class moved from first to last "
        "in fc_cls" + (", its 4 regression rows dropped from fc_reg" if dropped else "")
    )
    return out


def split_detector_heads(tensors):
    """Takes the detector-head tensors out of a state dict and brings them to mmdet v2's layout.

    Faster R-CNN heads in mmdetection v2's layout (`rpn_head.*`, `roi_head.bbox_head.*`) are
    kept as they are; in mmdetection 1.x's (`bbox_head.*`, background first, 4 * (K + 1)
    regression rows) they are renamed and reordered to v2's. mmdetection v2's Cascade R-CNN
    heads (`roi_head.bbox_head.{stage}.*`) are kept as they are, and so are a Cascade Mask
    R-CNN's mask heads (`roi_head.mask_head.{stage}.*`). A Mask R-CNN's mask head is kept as
    `roi_head.mask_head.*` (1.x: `mask_head.*`, renamed). A model without mask heads ignores
    them (`fill_model`); the mask RoI extractors hold no weights. The heads of other
    detectors with staged box heads (HTC, mmdetection 1.x cascades) are all ignored.

    Args:
        tensors: key -> array, `backbone.*` / `neck.*` and heads.

    Returns:
        `(rest, heads)`: the tensors that are not heads, and a `DetectorHeads` (None when the
        state dict has no head tensors).

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.convert.detector_heads import split_detector_heads
    >>> rest, heads = split_detector_heads({
    ...     "neck.fpn_convs.0.conv.weight": np.zeros((8, 8, 3, 3)),
    ...     "bbox_head.fc_cls.weight": np.arange(3.0)[:, None],
    ...     "bbox_head.fc_reg.weight": np.zeros((12, 1)),
    ... })
    >>> heads.layout, heads.tensors["roi_head.bbox_head.fc_cls.weight"].ravel().tolist()
    ('mmdet_v1', [1.0, 2.0, 0.0])
    >>> heads.tensors["roi_head.bbox_head.fc_reg.weight"].shape, sorted(rest)
    ((8, 1), ['neck.fpn_convs.0.conv.weight'])
    """
    heads = {k: v for k, v in tensors.items() if is_head_key(k)}
    if not heads:
        return dict(tensors), None
    rest = {k: v for k, v in tensors.items() if k not in heads}
    staged = any(_STAGED_BOX.match(k) for k in heads)
    cascade = all(CASCADE_BOX.match(k) for k in heads if _STAGED_BOX.match(k))
    if staged and cascade and not any(k.startswith(HTC_PREFIXES) for k in heads):
        # Unknown mask keys (a 1.x `mask_head.*` beside v2 boxes) stay, for the strict check.
        kept = {k: v for k, v in heads.items() if not k.startswith(EXTRACTOR_PREFIXES)}
        return rest, DetectorHeads(kept, "cascade")
    if staged:
        note = (
            f"ignored {len(heads)} tensors of staged box heads (HTC, or a cascade in "
            "mmdetection 1.x's layout), which this library does not build"
        )
        return rest, DetectorHeads({}, "other", sorted(heads), [note])
    v1 = any(k.startswith(V1_BOX_PREFIX) for k in heads)
    if v1 and any(k.startswith(BOX_PREFIX) for k in heads):
        raise ValueError(
            "The checkpoint holds box-head tensors in both mmdetection layouts: "
            f"{BOX_PREFIX}* (2.x) and {V1_BOX_PREFIX}* (1.x). Received: keys "
            f"{sorted(k for k in heads if k.startswith((BOX_PREFIX, V1_BOX_PREFIX)))[:6]}"
        )
    ignored, notes = [], []
    # The mask RoI extractor has no weights; the v1 mask head moves under `roi_head.`.
    heads = {
        ("roi_head." + k if k.startswith("mask_head.") else k): v
        for k, v in heads.items()
        if not k.startswith(EXTRACTOR_PREFIXES)
    }
    if v1:
        heads = _v1_to_v2(heads, notes)
    return rest, DetectorHeads(heads, "mmdet_v1" if v1 else "mmdet_v2", ignored, notes)


def _roi_kernel(array, roi_size):
    """The first fc's `(out, C * h * w)` weight, whose input PyTorch flattens in `(C, h, w)`
    order, as a Keras `(h * w * C, out)` kernel reading `(h, w, C)` order."""
    h, w = (roi_size, roi_size) if isinstance(roi_size, int) else tuple(roi_size)
    if array.ndim != 2 or array.shape[1] % (h * w):
        return None
    out, inputs = array.shape
    grid = array.reshape(out, inputs // (h * w), h, w)
    return np.transpose(grid, (2, 3, 1, 0)).reshape(inputs, out)


@dataclasses.dataclass
class HeadFill:
    """What `head_assignments` found: `(variable, array)` pairs to assign, checkpoint keys
    used, and the missing and mis-shaped keys (strict loading fails on either)."""

    assignments: list = dataclasses.field(default_factory=list)
    used: set = dataclasses.field(default_factory=set)
    skipped: list = dataclasses.field(default_factory=list)
    missing: list = dataclasses.field(default_factory=list)
    mismatched: list = dataclasses.field(default_factory=list)


def mask_keys(tensors):
    """The mask-head keys of canonical head tensors."""
    return sorted(k for k in tensors if k.startswith(MASK_PREFIX))


def mask_stages(tensors):
    """The number of mask heads under `roi_head.mask_head.{stage}.` (0: none staged)."""
    stages = {int(m.group(1)) for k in tensors if (m := CASCADE_MASK.match(k))}
    return max(stages) + 1 if stages else 0


def cascade_stages(tensors):
    """The number of box heads under `roi_head.bbox_head.{stage}.` (0: not a cascade)."""
    stages = {int(m.group(1)) for k in tensors if (m := CASCADE_BOX.match(k))}
    return max(stages) + 1 if stages else 0


def head_assignments(rpn_head, roi_head, tensors, *, drop_head=False, mask_head=None):
    """Matches the weights of a Keras `RPNHead` and `RoIBoxHead` to mmdet v2 head tensors.

    With a list of `RoIBoxHead`s (a Cascade R-CNN's stages), head `i` reads
    `roi_head.bbox_head.{i}.*`; their class-agnostic `fc_reg` has 4 rows in both.

    Layouts: the RPN's 1x1 convs have one sigmoid logit per anchor and 4 deltas per anchor,
    anchors ordered as mmdetection's `AnchorGenerator` orders them (ratio-major), which is
    the order of `hrnet_keras.detection.anchors`, so channels map one to one. The box head's
    classes are `num_classes + 1` with the background last in both, its regression
    class-specific (`4 * num_classes`) in both; the first fc's input rows are permuted from
    PyTorch's `(C, 7, 7)` flattening to the Keras `(7, 7, C)` one.

    Args:
        rpn_head: a built `hrnet_keras.detection.RPNHead`.
        roi_head: a built `hrnet_keras.detection.RoIBoxHead`, or a list of them.
        tensors: mmdet v2 key -> array (see `split_detector_heads`).
        drop_head: leave `fc_cls`, `fc_reg` (and the mask head's `conv_logits`) as
            initialised (their tensors are used).
        mask_head: a built `hrnet_keras.detection.FCNMaskHead` (Mask R-CNN), filled from
            `roi_head.mask_head.convs.{i}.conv`, `.upsample` (a transposed conv: PyTorch's
            `(in, out, kh, kw)` kernel to Keras' `(kh, kw, out, in)`) and `.conv_logits`;
            or a list of them (a Cascade Mask R-CNN's stages), head `i` reading
            `roi_head.mask_head.{i}.*`.

    Returns:
        A `HeadFill`; nothing is assigned yet.
    """
    fill = HeadFill()
    tables = [(rpn_head, RPN_LAYERS)]
    if isinstance(roi_head, (list, tuple)):
        for stage, head in enumerate(roi_head):
            prefix = f"{BOX_PREFIX}{stage}."
            tables.append((head, {k: prefix + v[len(BOX_PREFIX) :] for k, v in BOX_LAYERS.items()}))
    else:
        tables.append((roi_head, BOX_LAYERS))
    staged = isinstance(mask_head, (list, tuple))
    mask_heads = list(mask_head) if staged else [] if mask_head is None else [mask_head]
    for stage, head in enumerate(mask_heads):
        prefix = f"{MASK_PREFIX}{stage}." if staged else MASK_PREFIX
        table = {f"conv{i}": f"{prefix}convs.{i}.conv" for i in range(len(head.convs))}
        table.update({k: prefix + v[len(MASK_PREFIX) :] for k, v in MASK_LAYERS.items()})
        tables.append((head, table))
    for head, table in tables:
        for attribute, module in table.items():
            # The mask head keeps its 3x3 convs in a list: `conv{i}` is `convs[i]`.
            numbered = attribute.startswith("conv") and attribute[4:].isdigit()
            layer = head.convs[int(attribute[4:])] if numbered else getattr(head, attribute)
            path = f"{head.name}/{attribute}"
            if drop_head and attribute in CLASS_LAYERS:
                fill.skipped.append(path)
                fill.used.update(k for k in tensors if k.startswith(module + "."))
                continue
            for variable in layer.weights:
                key = f"{module}.{torch_param_name(variable.name)}"
                if key not in tensors:
                    fill.missing.append(key)
                    continue
                fill.used.add(key)
                source = tensors[key]
                if attribute == "shared_fc1" and variable.name == "kernel":
                    array = _roi_kernel(source, head.roi_size)
                elif attribute == "upsample" and variable.name == "kernel" and source.ndim == 4:
                    array = np.transpose(source, (2, 3, 1, 0))
                else:
                    array = to_keras_layout(source, variable.name, type(layer).__name__)
                if array is None or tuple(array.shape) != tuple(variable.shape):
                    fill.mismatched.append(
                        f"{key} {tuple(source.shape)} for {path}/{variable.name} "
                        f"{tuple(variable.shape)}"
                    )
                    continue
                fill.assignments.append((variable, array))
    return fill
