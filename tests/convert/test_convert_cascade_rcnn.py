"""mmdetection v2 Cascade R-CNN checkpoints: their heads kept stage by stage (mask heads too),
HTC heads told apart, every stage's tensors matched to its Keras box head (the whole
conversion against the PyTorch reference is `tests/detection/test_cascade_rcnn_parity.py`)."""

import numpy as np
from detection_helpers import tiny_pyramid

from hrnet_keras.convert import canonicalize
from hrnet_keras.convert.detector_heads import head_assignments, split_detector_heads
from hrnet_keras.detection import CascadeRCNN

CLASSES, FC, CHANNELS = 3, 16, 8


def _cascade_heads(stages=3):
    rng = np.random.default_rng(0)
    shapes = {
        "rpn_head.rpn_conv.weight": (CHANNELS, CHANNELS, 3, 3),
        "rpn_head.rpn_conv.bias": (CHANNELS,),
        "rpn_head.rpn_cls.weight": (3, CHANNELS, 1, 1),
        "rpn_head.rpn_cls.bias": (3,),
        "rpn_head.rpn_reg.weight": (12, CHANNELS, 1, 1),
        "rpn_head.rpn_reg.bias": (12,),
    }
    for stage in range(stages):
        prefix = f"roi_head.bbox_head.{stage}."
        shapes.update(
            {
                prefix + "shared_fcs.0.weight": (FC, CHANNELS * 49),
                prefix + "shared_fcs.0.bias": (FC,),
                prefix + "shared_fcs.1.weight": (FC, FC),
                prefix + "shared_fcs.1.bias": (FC,),
                prefix + "fc_cls.weight": (CLASSES + 1, FC),
                prefix + "fc_cls.bias": (CLASSES + 1,),
                prefix + "fc_reg.weight": (4, FC),
                prefix + "fc_reg.bias": (4,),
            }
        )
    return {k: rng.normal(size=s).astype("float32") for k, s in shapes.items()}


def test_cascade_heads_are_kept_with_their_mask_heads():
    tensors = {**_cascade_heads(), "neck.fpn_convs.0.conv.weight": np.zeros((8, 8, 3, 3))}
    tensors["roi_head.mask_head.0.conv_logits.weight"] = np.zeros((3, 8, 1, 1))
    rest, heads = split_detector_heads(tensors)
    assert heads.layout == "cascade" and sorted(rest) == ["neck.fpn_convs.0.conv.weight"]
    # A Cascade Mask R-CNN's mask heads convert too (a Cascade R-CNN ignores them).
    assert set(heads.tensors) == {*_cascade_heads(), "roi_head.mask_head.0.conv_logits.weight"}
    assert not heads.ignored
    assert canonicalize(tensors).layout == "cascade_rcnn"


def test_htc_and_mmdet_v1_cascades_are_still_ignored():
    htc = {**_cascade_heads(), "roi_head.semantic_head.conv_logits.weight": np.zeros((2, 2))}
    _, heads = split_detector_heads(htc)
    assert heads.layout == "other" and not heads.tensors
    v1 = {k.replace("roi_head.", ""): v for k, v in _cascade_heads().items()}
    _, heads = split_detector_heads(v1)
    assert heads.layout == "other" and not heads.tensors


def test_each_stage_fills_its_own_head():
    model = CascadeRCNN(tiny_pyramid(CHANNELS), CLASSES, fc_channels=FC, rpn_channels=CHANNELS)
    tensors = _cascade_heads()
    fill = head_assignments(model.rpn_head, model.roi_heads, tensors)
    assert not fill.missing and not fill.mismatched
    assert len(fill.assignments) == 6 + 3 * 8 and fill.used == set(tensors)
    assigned = {id(v): a for v, a in fill.assignments}
    for stage, head in enumerate(model.roi_heads):
        key = f"roi_head.bbox_head.{stage}.fc_cls.weight"
        np.testing.assert_array_equal(assigned[id(head.fc_cls.kernel)], tensors[key].T)
        key = f"roi_head.bbox_head.{stage}.fc_reg.bias"
        np.testing.assert_array_equal(assigned[id(head.fc_reg.bias)], tensors[key])
    fewer = head_assignments(model.rpn_head, model.roi_heads, _cascade_heads(stages=2))
    assert "roi_head.bbox_head.2.fc_cls.weight" in fewer.missing
