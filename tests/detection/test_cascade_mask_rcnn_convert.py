"""mmdetection v2 Cascade Mask R-CNN checkpoints: the mask heads kept stage by stage, the kind
read from the keys, every stage's tensors matched to its own Keras mask head (the whole
conversion against the PyTorch reference, strictness included, is
`test_cascade_mask_rcnn_parity.py`)."""

import numpy as np
from detection_helpers import tiny_pyramid

from hrnet_keras.convert import canonicalize
from hrnet_keras.convert.detect import detect
from hrnet_keras.convert.detector_heads import head_assignments, split_detector_heads
from hrnet_keras.detection import CascadeMaskRCNN

CLASSES, FC, CHANNELS, MASK = 3, 16, 8, 4


def _heads(stages=3, mask_stages=3):
    shapes = {
        "rpn_head.rpn_conv.weight": (CHANNELS, CHANNELS, 3, 3),
        "rpn_head.rpn_conv.bias": (CHANNELS,),
        "rpn_head.rpn_cls.weight": (3, CHANNELS, 1, 1),
        "rpn_head.rpn_cls.bias": (3,),
        "rpn_head.rpn_reg.weight": (12, CHANNELS, 1, 1),
        "rpn_head.rpn_reg.bias": (12,),
    }
    for stage in range(stages):
        box = f"roi_head.bbox_head.{stage}."
        shapes.update(
            {
                box + "shared_fcs.0.weight": (FC, CHANNELS * 49),
                box + "shared_fcs.0.bias": (FC,),
                box + "shared_fcs.1.weight": (FC, FC),
                box + "shared_fcs.1.bias": (FC,),
                box + "fc_cls.weight": (CLASSES + 1, FC),
                box + "fc_cls.bias": (CLASSES + 1,),
                box + "fc_reg.weight": (4, FC),
                box + "fc_reg.bias": (4,),
            }
        )
    for stage in range(mask_stages):
        mask = f"roi_head.mask_head.{stage}."
        for i in range(4):
            shapes[f"{mask}convs.{i}.conv.weight"] = (MASK, CHANNELS if i == 0 else MASK, 3, 3)
            shapes[f"{mask}convs.{i}.conv.bias"] = (MASK,)
        shapes[mask + "upsample.weight"] = (MASK, MASK, 2, 2)
        shapes[mask + "upsample.bias"] = (MASK,)
        shapes[mask + "conv_logits.weight"] = (CLASSES, MASK, 1, 1)
        shapes[mask + "conv_logits.bias"] = (CLASSES,)
    rng = np.random.default_rng(0)
    return {k: rng.normal(size=s).astype("float32") for k, s in shapes.items()}


def _hrnet_keys():
    """The least of W18-small-v2's keys that `detect_width` reads."""
    keys = {"conv1.weight": (64, 3, 3, 3), "transition1.0.0.weight": (18, 256, 3, 3)}
    keys["layer1.0.conv1.weight"] = (64, 64, 1, 1)
    keys.update({f"layer1.{u}.conv2.weight": (64, 64, 3, 3) for u in range(2)})
    keys.update(
        {
            f"stage{s}.{m}.branches.0.{u}.conv1.weight": (18, 18, 3, 3)
            for s, n in ((2, 1), (3, 3), (4, 2))
            for m in range(n)
            for u in range(2)
        }
    )
    return {f"backbone.{k}": np.zeros(v, "float32") for k, v in keys.items()}


def test_mask_heads_are_kept_and_the_kind_is_read_from_them():
    tensors = {**_hrnet_keys(), **_heads(), "neck.reduction_conv.conv.weight": np.zeros((8, 8))}
    # RoI extractors hold no weights; a stray one is dropped, never an error.
    tensors["roi_head.mask_roi_extractor.0.roi_layers.0.weight_free"] = np.zeros(1)
    _, heads = split_detector_heads(tensors)
    assert heads.layout == "cascade" and set(heads.tensors) == set(_heads())
    checkpoint = canonicalize(tensors)
    assert checkpoint.layout == "cascade_rcnn"
    info = detect(checkpoint)
    assert (info.kind, info.width, info.num_classes) == ("cascade_mask_rcnn", "18-small-v2", 3)
    assert (info.fc_channels, info.mask_channels) == (FC, MASK)
    plain = detect(canonicalize({**_hrnet_keys(), **_heads(mask_stages=0)}))
    assert (plain.kind, plain.mask_channels) == ("cascade_rcnn", None)


def test_each_stage_fills_its_own_mask_head():
    model = CascadeMaskRCNN(
        tiny_pyramid(CHANNELS), CLASSES, fc_channels=FC, rpn_channels=CHANNELS, mask_channels=MASK
    )
    tensors = _heads()
    fill = head_assignments(model.rpn_head, model.roi_heads, tensors, mask_head=model.mask_heads)
    assert not fill.missing and not fill.mismatched and fill.used == set(tensors)
    assert len(fill.assignments) == 6 + 3 * 8 + 3 * 12
    assigned = {id(v): a for v, a in fill.assignments}
    for stage, head in enumerate(model.mask_heads):
        key = f"roi_head.mask_head.{stage}.conv_logits.weight"
        np.testing.assert_array_equal(
            assigned[id(head.conv_logits.kernel)], np.transpose(tensors[key], (2, 3, 1, 0))
        )
        key = f"roi_head.mask_head.{stage}.convs.3.conv.bias"
        np.testing.assert_array_equal(assigned[id(head.convs[3].bias)], tensors[key])
    # A missing stage is reported missing; a fourth one is left unused (strict: unexpected).
    fewer = head_assignments(
        model.rpn_head, model.roi_heads, _heads(mask_stages=2), mask_head=model.mask_heads
    )
    assert "roi_head.mask_head.2.upsample.weight" in fewer.missing
    more = _heads(mask_stages=4)
    extra = head_assignments(model.rpn_head, model.roi_heads, more, mask_head=model.mask_heads)
    assert set(more) - extra.used == {k for k in more if k.startswith("roi_head.mask_head.3.")}
