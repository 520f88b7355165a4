"""The PyTorch reference detector itself: it runs, and each setting changed from torchvision's
defaults computes what mmdetection v2 computes (checked against NumPy transcriptions)."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("timm")

from torch_faster_rcnn_reference import (  # noqa: E402
    ANCHOR_STRIDES,
    ROI_STRIDES,
    build_reference,
    load_reference_state_dict,
    reference_detect,
    reference_proposals,
    reference_state_dict,
)
from torch_hrnet_reference import single_threaded_torch  # noqa: E402, F401
from torchvision.models.detection._utils import BoxCoder  # noqa: E402
from torchvision.models.detection.anchor_utils import AnchorGenerator  # noqa: E402
from torchvision.models.detection.image_list import ImageList  # noqa: E402
from torchvision.models.detection.roi_heads import RoIHeads  # noqa: E402
from torchvision.ops import MultiScaleRoIAlign, remove_small_boxes, roi_align  # noqa: E402
from torchvision.ops.poolers import initLevelMapper  # noqa: E402

SMALL = "18-small-v1"
NUM_CLASSES = 3
CHANNELS, FC = 32, 64
HEIGHT, WIDTH = 160, 96  # 160 is not a multiple of 64: P6 is 2 x 1, not 2.5 x 1.5


def tiny_reference(seed=0):
    return build_reference(SMALL, NUM_CLASSES, seed=seed, channels=CHANNELS, fc_channels=FC)


@pytest.fixture(scope="module")
def model():
    return tiny_reference()


@pytest.fixture(scope="module")
def images():
    return torch.randn(2, 3, HEIGHT, WIDTH, generator=torch.Generator().manual_seed(0))


def numpy_mmdet_anchors(height, width, stride, scale=8, ratios=(0.5, 1.0, 2.0)):
    """mmdet v2's AnchorGenerator for one level (centre offset 0, scale-major base anchors
    that, with one scale, are in ratio order; location-major grid; no rounding)."""
    h_ratios = np.sqrt(np.asarray(ratios, np.float32))
    w_ratios = 1 / h_ratios
    ws = stride * w_ratios * scale
    hs = stride * h_ratios * scale
    base = np.stack([-0.5 * ws, -0.5 * hs, 0.5 * ws, 0.5 * hs], axis=1)
    xs, ys = np.meshgrid(np.arange(width) * stride, np.arange(height) * stride)
    shifts = np.stack([xs.ravel(), ys.ravel(), xs.ravel(), ys.ravel()], axis=1)
    return (shifts[:, None, :] + base[None]).reshape(-1, 4)


def numpy_mmdet_levels(boxes, num_levels=4, finest_scale=56):
    """mmdet v2's `map_roi_levels`, in float32 like the torch code."""
    boxes = np.asarray(boxes, np.float32)
    scale = np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    levels = np.floor(np.log2(scale / np.float32(finest_scale) + np.float32(1e-6)))
    return np.clip(levels, 0, num_levels - 1).astype(np.int64)


def numpy_nms(boxes, scores, groups, threshold):
    """Greedy NMS within each group (IoU > threshold suppresses), kept indices by
    descending score: mmcv's and torchvision's `batched_nms`."""
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    suppressed = np.zeros(len(boxes), bool)
    keep = []
    for i in np.argsort(-scores, kind="stable"):
        if suppressed[i]:
            continue
        keep.append(i)
        size = np.clip(
            np.minimum(boxes[i, 2:], boxes[:, 2:]) - np.maximum(boxes[i, :2], boxes[:, :2]), 0, None
        )
        inter = size[:, 0] * size[:, 1]
        with np.errstate(invalid="ignore"):  # two empty boxes: IoU NaN, no suppression
            iou = inter / (areas[i] + areas - inter)
        suppressed |= (iou > threshold) & (groups == groups[i])
    return np.asarray(keep, np.int64)


def numpy_delta2bbox(rois, deltas, stds, max_shape):
    """mmdet v2's DeltaXYWHBBoxCoder.decode (means 0): (N, 4) rois, (N, 4k) deltas."""
    deltas = deltas.reshape(len(rois), -1, 4) * np.asarray(stds, np.float32)
    max_ratio = np.float32(abs(np.log(16 / 1000)))
    dx, dy = deltas[..., 0], deltas[..., 1]
    dw, dh = (
        np.clip(deltas[..., 2], -max_ratio, max_ratio),
        np.clip(deltas[..., 3], -max_ratio, max_ratio),
    )
    px, py = ((rois[:, 0] + rois[:, 2]) * 0.5)[:, None], ((rois[:, 1] + rois[:, 3]) * 0.5)[:, None]
    pw, ph = (rois[:, 2] - rois[:, 0])[:, None], (rois[:, 3] - rois[:, 1])[:, None]
    gw, gh = pw * np.exp(dw), ph * np.exp(dh)
    gx, gy = px + pw * dx, py + ph * dy
    boxes = np.stack([gx - gw * 0.5, gy - gh * 0.5, gx + gw * 0.5, gy + gh * 0.5], -1)
    boxes[..., 0::2] = np.clip(boxes[..., 0::2], 0, max_shape[1])
    boxes[..., 1::2] = np.clip(boxes[..., 1::2], 0, max_shape[0])
    return boxes.reshape(len(rois), -1)


def numpy_rpn_proposals(cls_scores, bbox_preds, anchors, image_shape):
    """mmdet v2's RPNHead._get_bboxes_single at test (nms_pre 1000, NMS 0.7 per level,
    min_bbox_size 0, max_per_img 1000) from one image's (A, H, W) / (4A, H, W) outputs."""
    scores, deltas, priors, levels = [], [], [], []
    for level, (cls, reg, level_anchors) in enumerate(zip(cls_scores, bbox_preds, anchors)):
        score = 1 / (1 + np.exp(-cls.transpose(1, 2, 0).reshape(-1)))
        delta = reg.transpose(1, 2, 0).reshape(-1, 4)
        top = np.argsort(-score, kind="stable")[:1000]
        scores.append(score[top])
        deltas.append(delta[top])
        priors.append(level_anchors[top])
        levels.append(np.full(len(top), level))
    scores, levels = np.concatenate(scores), np.concatenate(levels)
    boxes = numpy_delta2bbox(
        np.concatenate(priors), np.concatenate(deltas), (1, 1, 1, 1), image_shape
    )
    valid = (boxes[:, 2] - boxes[:, 0] > 0) & (boxes[:, 3] - boxes[:, 1] > 0)
    boxes, scores, levels = boxes[valid], scores[valid], levels[valid]
    return boxes[numpy_nms(boxes, scores, levels, 0.7)[:1000]]


def numpy_bbox_head(state, pooled, rois, image_shape):
    """mmdet v2's Shared2FCBBoxHead + get_bboxes + multiclass_nms (score > 0.05, NMS 0.5,
    100 per image), from the weights in mmdet's layout (background last)."""
    head = "roi_head.bbox_head."
    x = pooled.reshape(len(pooled), -1)
    for i in range(2):
        x = np.maximum(
            x @ state[f"{head}shared_fcs.{i}.weight"].T + state[f"{head}shared_fcs.{i}.bias"], 0
        )
    logits = x @ state[f"{head}fc_cls.weight"].T + state[f"{head}fc_cls.bias"]
    deltas = x @ state[f"{head}fc_reg.weight"].T + state[f"{head}fc_reg.bias"]
    scores = np.exp(logits - logits.max(1, keepdims=True))
    scores = (scores / scores.sum(1, keepdims=True))[:, :-1]
    boxes = numpy_delta2bbox(rois, deltas, (0.1, 0.1, 0.2, 0.2), image_shape).reshape(-1, 4)
    labels = np.broadcast_to(np.arange(scores.shape[1]), scores.shape).reshape(-1)
    scores = scores.reshape(-1)
    valid = scores > 0.05
    boxes, scores, labels = boxes[valid], scores[valid], labels[valid]
    keep = numpy_nms(boxes, scores, labels, 0.5)[:100]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}


def test_detections_are_finite_and_follow_the_output_contract(model, images):
    shapes = [(HEIGHT, WIDTH), (100, 80)]  # the second image is padded
    detections = reference_detect(model, images, image_shapes=shapes)
    assert len(detections) == 2
    for image, (h, w) in zip(detections, shapes):
        boxes, scores, labels = image["boxes"], image["scores"], image["labels"]
        assert 0 < len(scores) <= 100 and boxes.shape == (len(scores), 4)
        assert np.isfinite(boxes).all() and np.isfinite(scores).all()
        assert np.all(np.diff(scores) <= 0) and np.all((scores > 0.05) & (scores <= 1))
        assert labels.min() >= 0 and labels.max() < NUM_CLASSES
        assert np.all(boxes[:, 2:] >= boxes[:, :2])
        assert boxes[:, [0, 2]].min() >= 0 and boxes[:, [0, 2]].max() <= w
        assert boxes[:, [1, 3]].min() >= 0 and boxes[:, [1, 3]].max() <= h
    proposals = reference_proposals(model, images)
    for boxes in proposals:
        assert 0 < len(boxes) <= 1000 and np.isfinite(boxes).all()
        assert np.all(boxes[:, 2:] > boxes[:, :2])  # zero-size proposals are dropped
    again = reference_detect(tiny_reference(), images, image_shapes=shapes)
    for first, second in zip(detections, again):  # seeded: two builds are one model
        for key in first:
            np.testing.assert_array_equal(first[key], second[key])


def canonical(boxes, labels=None):
    """Rows (label, box) in lexicographic order of their rounded values."""
    rows = boxes if labels is None else np.concatenate([labels[:, None], boxes], 1)
    return rows[np.lexsort(np.round(rows, 2).T[::-1])]


def assert_inference_matches_numpy_mmdet(model, images, shapes):
    """Proposals and detections equal NumPy transcriptions of mmdet v2's RPN and R-CNN test
    paths, the second reading the weights from `reference_state_dict` (mmdet's layout)."""
    state = reference_state_dict(model)
    with torch.no_grad():
        features = model.backbone(images)
        cls_scores, bbox_preds = model.rpn.head(list(features.values()))
    anchors = [
        numpy_mmdet_anchors(*f.shape[-2:], stride)
        for f, stride in zip(features.values(), ANCHOR_STRIDES)
    ]
    proposals = reference_proposals(model, images, image_shapes=shapes)
    detections = reference_detect(model, images, image_shapes=shapes)
    for i, shape in enumerate(shapes):
        expected = numpy_rpn_proposals(
            [c[i].numpy() for c in cls_scores], [b[i].numpy() for b in bbox_preds], anchors, shape
        )
        assert len(expected) > 100
        # Order aside: equal scores (saturated sigmoids at full width) may come out either way.
        np.testing.assert_allclose(canonical(proposals[i]), canonical(expected), atol=1e-3)
        with torch.no_grad():
            pooled = model.roi_heads.box_roi_pool(
                {k: v[i : i + 1] for k, v in features.items()},
                [torch.from_numpy(expected.astype(np.float32))],
                [shape],
            )
        want = numpy_bbox_head(state, pooled.numpy(), expected, shape)
        assert len(want["scores"]) > 10 and len(np.unique(want["labels"])) > 1
        got = detections[i]
        np.testing.assert_allclose(got["scores"], want["scores"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            canonical(got["boxes"], got["labels"]),
            canonical(want["boxes"], want["labels"]),
            atol=1e-3,
        )


def test_inference_equals_numpy_transcription_of_mmdet(model, images):
    assert_inference_matches_numpy_mmdet(model, images, [(HEIGHT, WIDTH), (100, 80)])


@pytest.mark.heavy
def test_full_size_reference_equals_numpy_transcription_of_mmdet():
    """W18, 256 channels, 1024-wide fcs, 80 classes: the published configuration."""
    model = build_reference(18, 80, seed=2)
    images = torch.randn(1, 3, 256, 320, generator=torch.Generator().manual_seed(2))
    assert_inference_matches_numpy_mmdet(model, images, [(256, 320)])


def test_anchors_follow_mmdet_and_not_torchvision_rounding(model, images):
    features = list(model.backbone(images).values())
    image_list = ImageList(images, [(HEIGHT, WIDTH)] * 2)
    anchors = model.rpn.anchor_generator(image_list, features)
    assert len(anchors) == 2
    expected = np.concatenate(
        [numpy_mmdet_anchors(*f.shape[-2:], stride) for f, stride in zip(features, ANCHOR_STRIDES)]
    )
    np.testing.assert_allclose(anchors[0].numpy(), expected, rtol=0, atol=1e-4)
    np.testing.assert_array_equal(anchors[0].numpy(), anchors[1].numpy())
    # torchvision's own generator rounds the base anchors and takes P6's stride from
    # image size // grid size, 160 // 2 = 80 pixels here instead of 64.
    rounded = AnchorGenerator(
        tuple((s * 8,) for s in ANCHOR_STRIDES), ((0.5, 1.0, 2.0),) * len(ANCHOR_STRIDES)
    )(image_list, features)[0].numpy()
    assert np.abs(rounded[: len(rounded) // 2] - expected[: len(rounded) // 2]).max() > 0.3
    p6 = numpy_mmdet_anchors(*features[-1].shape[-2:], 64)
    assert not np.allclose(rounded[-len(p6) :], p6, atol=1.0)


def test_roi_pooling_equals_roi_align_on_mmdet_levels(model):
    generator = torch.Generator().manual_seed(1)
    features = {
        str(i): torch.randn(1, 8, 256 // s, 256 // s, generator=generator)
        for i, s in enumerate(ROI_STRIDES)
    }
    corners = torch.rand(60, 2, generator=generator) * 100
    sizes = torch.exp(torch.rand(60, 2, generator=generator) * 6.5) + 0.5
    # Sides just below the level boundaries 112, 224, 448, where mmdet's epsilon (added
    # before the logarithm) and torchvision's (after it) pick different levels.
    edges = torch.tensor([b * (1 - k * 2.0**-24) for b in (112.0, 224.0, 448.0) for k in (4, 8)])
    boxes = torch.cat(
        [
            torch.cat([corners, corners + sizes], 1),
            torch.stack([torch.zeros_like(edges), torch.zeros_like(edges), edges, edges], 1),
            torch.tensor([[0.0, 0.0, 250.0, 240.0], [3.0, 5.0, 600.0, 480.0]]),  # level 3
        ]
    )
    levels = numpy_mmdet_levels(boxes.numpy())
    assert set(levels.tolist()) == {0, 1, 2, 3}
    torchvision_levels = initLevelMapper(2, 5)([boxes]).numpy()
    assert np.any(levels != torchvision_levels)

    pooled = model.roi_heads.box_roi_pool(features, [boxes], [(256, 256)])
    rois = torch.cat([torch.zeros(len(boxes), 1), boxes], 1)
    expected = torch.stack(
        [
            roi_align(
                features[str(level)],
                rois[i : i + 1],
                7,
                spatial_scale=1 / ROI_STRIDES[level],
                sampling_ratio=0,
                aligned=True,
            )[0]
            for i, level in enumerate(levels)
        ]
    )
    np.testing.assert_allclose(pooled.numpy(), expected.numpy(), rtol=0, atol=1e-6)
    default = MultiScaleRoIAlign(["0", "1", "2", "3"], 7, sampling_ratio=2)
    assert not np.allclose(default(features, [boxes], [(256, 256)]).numpy(), pooled.numpy())


def test_box_decoding_clamps_both_ways_like_mmdet(model):
    proposals = torch.tensor([[10.0, 10.0, 50.0, 30.0]])
    max_ratio = abs(np.log(16 / 1000))
    for coder, stds in ((model.rpn.box_coder, 1.0), (model.roi_heads.box_coder, 0.2)):
        deltas = torch.tensor([[0.0, 0.0, -20.0, 20.0]]) / stds  # dw * std = -20, dh = 20
        box = coder.decode_single(deltas, proposals)[0].numpy()
        np.testing.assert_allclose(box[2] - box[0], 40 * np.exp(-max_ratio), rtol=1e-5)
        np.testing.assert_allclose(box[3] - box[1], 20 * np.exp(max_ratio), rtol=1e-5)
        plain = BoxCoder(coder.weights).decode_single(deltas, proposals)[0].numpy()
        assert plain[2] - plain[0] < 1e-6  # torchvision caps the growth only
    assert model.roi_heads.box_coder.weights == (10.0, 10.0, 5.0, 5.0)
    assert model.rpn.box_coder.weights == (1.0, 1.0, 1.0, 1.0)


def test_small_boxes_are_kept_as_mmdet_keeps_them(model):
    # RPN: mmdet drops proposals of zero width or height only.
    boxes = torch.tensor([[0, 0, 5, 5], [0, 0, 0, 5], [0, 0, 1e-4, 5], [2, 2, 2 + 1e-4, 2.5]])
    assert remove_small_boxes(boxes, model.rpn.min_size).tolist() == [0, 2, 3]
    assert remove_small_boxes(boxes, 1e-3).tolist() == [0]  # torchvision's default
    # Detections: no minimum size at all (torchvision drops those under 1e-2 pixels).
    heads = model.roi_heads
    proposals = [torch.tensor([[10.0, 10.0, 10.005, 30.0], [20.0, 20.0, 60.0, 50.0]])]
    logits = torch.tensor([[0.0, 4.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0]])
    regression = torch.zeros(2, 4 * (NUM_CLASSES + 1))
    boxes, scores, labels = heads.postprocess_detections(logits, regression, proposals, [(64, 64)])
    assert labels[0].tolist() == [1, 2] and scores[0][0] > scores[0][1] > 0.05
    np.testing.assert_allclose(boxes[0].numpy(), proposals[0].numpy(), atol=1e-5)
    _, _, plain = RoIHeads.postprocess_detections(heads, logits, regression, proposals, [(64, 64)])
    assert plain[0].tolist() == [2]


def test_state_dict_in_mmdet_layout_round_trips(model, images):
    state = reference_state_dict(model)
    heads = {k: v.shape for k, v in state.items() if not k.startswith(("backbone.", "neck."))}
    assert heads == {
        "rpn_head.rpn_conv.weight": (CHANNELS, CHANNELS, 3, 3),
        "rpn_head.rpn_conv.bias": (CHANNELS,),
        "rpn_head.rpn_cls.weight": (3, CHANNELS, 1, 1),
        "rpn_head.rpn_cls.bias": (3,),
        "rpn_head.rpn_reg.weight": (12, CHANNELS, 1, 1),
        "rpn_head.rpn_reg.bias": (12,),
        "roi_head.bbox_head.shared_fcs.0.weight": (FC, CHANNELS * 7 * 7),
        "roi_head.bbox_head.shared_fcs.0.bias": (FC,),
        "roi_head.bbox_head.shared_fcs.1.weight": (FC, FC),
        "roi_head.bbox_head.shared_fcs.1.bias": (FC,),
        "roi_head.bbox_head.fc_cls.weight": (NUM_CLASSES + 1, FC),
        "roi_head.bbox_head.fc_cls.bias": (NUM_CLASSES + 1,),
        "roi_head.bbox_head.fc_reg.weight": (4 * NUM_CLASSES, FC),
        "roi_head.bbox_head.fc_reg.bias": (4 * NUM_CLASSES,),
    }
    assert "neck.reduction_conv.conv.weight" in state and "neck.fpn_convs.4.conv.bias" in state
    assert (
        "backbone.conv1.weight" in state and "backbone.stage4.0.fuse_layers.0.1.0.weight" in state
    )
    predictor = model.roi_heads.box_predictor
    cls = predictor.cls_score.weight.detach().numpy()
    np.testing.assert_array_equal(state["roi_head.bbox_head.fc_cls.weight"][-1], cls[0])
    np.testing.assert_array_equal(state["roi_head.bbox_head.fc_cls.weight"][:-1], cls[1:])
    reg = predictor.bbox_pred.bias.detach().numpy()
    np.testing.assert_array_equal(state["roi_head.bbox_head.fc_reg.bias"], reg[4:])

    other = tiny_reference(seed=5)
    expected = reference_detect(model, images)
    before = reference_detect(other, images)
    assert not np.array_equal(before[0]["scores"], expected[0]["scores"])
    load_reference_state_dict(other, state)
    for want, got in zip(expected, reference_detect(other, images)):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


@pytest.mark.slow
def test_reference_does_not_import_tensorflow():
    helpers = pathlib.Path(__file__).resolve().parents[1] / "helpers"
    path = os.pathsep.join([str(helpers), os.environ.get("PYTHONPATH", "")])
    code = "import sys, torch_faster_rcnn_reference; print('tensorflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
