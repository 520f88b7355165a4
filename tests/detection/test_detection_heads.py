"""RPN head and proposals, RoI sampling, the two losses and the detection post-processing."""

import keras
import numpy as np

from hrnet_keras.detection.anchors import multilevel_anchors
from hrnet_keras.detection.box_coder import encode_boxes
from hrnet_keras.detection.postprocess import detections_from_rois
from hrnet_keras.detection.roi_head import RCNN_STDS, RoIBoxHead, rcnn_loss, sample_rois
from hrnet_keras.detection.rpn import RPNHead, generate_proposals, rpn_loss

STRIDES = (4, 8, 16, 32, 64)


def rpn_outputs(seed=0, size=(64, 96)):
    rng = np.random.default_rng(seed)
    sizes = [(size[0] // s, size[1] // s) for s in STRIDES]
    scores = [rng.normal(0, 2, (2, h, w, 3)).astype("float32") for h, w in sizes]
    deltas = [rng.normal(0, 0.5, (2, h, w, 12)).astype("float32") for h, w in sizes]
    return scores, deltas, multilevel_anchors(sizes, STRIDES)


def test_rpn_head_names_and_shapes():
    head = RPNHead(3, 16, name="rpn_head")
    scores, deltas = head([np.zeros((1, 8, 8, 16), "float32"), np.zeros((1, 4, 4, 16), "float32")])
    assert [tuple(s.shape) for s in scores] == [(1, 8, 8, 3), (1, 4, 4, 3)]
    assert [tuple(d.shape) for d in deltas] == [(1, 8, 8, 12), (1, 4, 4, 12)]
    assert [w.path for w in head.weights] == [
        f"rpn_head/{layer}/{kind}"
        for layer in ("rpn_conv", "rpn_cls", "rpn_reg")
        for kind in ("kernel", "bias")
    ]
    restored = RPNHead.from_config(head.get_config())
    assert (restored.num_anchors, restored.channels) == (3, 16)


def test_proposals_are_valid_sorted_and_inside_the_image():
    scores, deltas, anchors = rpn_outputs()
    image_shape = np.array([[64.0, 96.0], [40.0, 50.0]])
    boxes, probabilities, valid = generate_proposals(
        scores, deltas, anchors, image_shape, pre_nms_top_k=100, max_proposals=150
    )
    boxes, probabilities, valid = (np.asarray(t) for t in (boxes, probabilities, valid))
    assert boxes.shape == (2, 150, 4) and valid.shape == (2, 150)
    for b in range(2):
        count = valid[b].sum()
        assert 0 < count <= 150 and valid[b, :count].all() and not valid[b, count:].any()
        kept = boxes[b, :count]
        assert (np.diff(probabilities[b, :count]) <= 0).all()
        assert (kept[:, 2] > kept[:, 0]).all() and (kept[:, 3] > kept[:, 1]).all()
        height, width = image_shape[b]
        assert kept[:, [0, 2]].min() >= 0 and kept[:, [0, 2]].max() <= width
        assert kept[:, [1, 3]].min() >= 0 and kept[:, [1, 3]].max() <= height
        assert (boxes[b, count:] == 0).all()
        assert (probabilities[b, :count] > 0).all() and (probabilities[b, count:] == 0).all()


def test_rpn_loss_finite_and_lower_for_right_answers():
    scores, deltas, anchors = rpn_outputs(1)
    anchors = np.concatenate([np.asarray(a) for a in anchors])
    targets = {
        "boxes": np.array([[[8, 8, 40, 40], [0, 0, 0, 0]], [[0, 0, 0, 0]] * 2], "float32"),
        "labels": np.array([[1, -1], [-1, -1]], "int32"),
    }
    valid = np.ones((2, len(anchors)), bool)

    def loss(scores, deltas):
        cls, box = rpn_loss(
            scores, deltas, anchors, valid, targets, seed=keras.random.SeedGenerator(0)
        )
        return float(cls), float(box)

    random_cls, random_box = loss(scores, deltas)
    assert np.isfinite([random_cls, random_box]).all() and random_box > 0
    # The logits of a perfect classifier (anchors by IoU with the one box) and perfect deltas.
    iou = np.asarray(
        keras.utils.bounding_boxes.compute_iou(anchors, targets["boxes"][0, :1], "xyxy")
    )[:, 0]
    logits = np.where(iou >= 0.5, 20.0, -20.0).astype("float32")
    perfect = np.asarray(
        encode_boxes(anchors, np.broadcast_to(targets["boxes"][0, :1], anchors.shape))
    )
    sizes = [s.shape[1:3] for s in scores]
    splits = np.cumsum([h * w * 3 for h, w in sizes])[:-1]
    good_scores = [
        np.broadcast_to(part.reshape(1, h, w, 3), (2, h, w, 3))
        for part, (h, w) in zip(np.split(logits, splits), sizes)
    ]
    good_deltas = [
        np.broadcast_to(part.reshape(1, h, w, 12), (2, h, w, 12))
        for part, (h, w) in zip(np.split(perfect, splits), sizes)
    ]
    good_cls, good_box = loss(good_scores, good_deltas)
    assert good_box < 1e-4 and good_cls < random_cls


def targets_two_images():
    return {
        "boxes": np.array(
            [[[10, 10, 50, 50], [60, 20, 90, 60], [0, 0, 30, 30]], [[0, 0, 0, 0]] * 3], "float32"
        ),
        "labels": np.array([[2, 0, 1], [-1, -1, -1]], "int32"),
        "crowd": np.array([[False, False, True], [False] * 3]),
    }


def test_sample_rois_adds_ground_truth_and_labels_background_last():
    proposals = np.array([[[12, 12, 50, 50], [0, 60, 10, 64]] + [[0, 0, 0, 0]] * 2] * 2, "float32")
    proposal_valid = np.array([[True, True, False, False], [True, True, False, False]])
    samples = sample_rois(
        proposals,
        proposal_valid,
        targets_two_images(),
        num_classes=3,
        num_samples=8,
        seed=keras.random.SeedGenerator(0),
    )
    samples = {k: np.asarray(v) for k, v in samples.items()}
    first = samples["valid"][0] & samples["positive"][0]
    # Image 0: the two real boxes and the proposal with IoU 0.9 are positive (not the crowd).
    assert first.sum() == 2  # 8 * 0.25 positives at most
    assert samples["valid"][0].sum() == 3 and samples["valid"][1].sum() == 2
    assert set(samples["labels"][0][first].tolist()) <= {0, 2}
    assert (samples["labels"][~samples["positive"]] == 3).all()
    assert (samples["box_targets"][~samples["positive"]] == 0).all()
    assert not samples["positive"][1].any()


def test_rcnn_loss_matches_numpy():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(1, 4, 4)).astype("float32")
    deltas = rng.normal(size=(1, 4, 12)).astype("float32")
    samples = {
        "labels": np.array([[1, 3, 0, 3]]),
        "positive": np.array([[True, False, True, False]]),
        "valid": np.array([[True, True, True, False]]),
        "box_targets": rng.normal(size=(1, 4, 4)).astype("float32"),
    }
    cls, box = rcnn_loss(logits, deltas, samples, 3)
    log_softmax = logits[0] - np.log(np.exp(logits[0]).sum(-1, keepdims=True))
    expected_cls = -(log_softmax[0, 1] + log_softmax[1, 3] + log_softmax[2, 0]) / 3
    expected_box = (
        np.abs(deltas[0, 0, 4:8] - samples["box_targets"][0, 0]).sum()
        + np.abs(deltas[0, 2, 0:4] - samples["box_targets"][0, 2]).sum()
    ) / 3
    np.testing.assert_allclose([float(cls), float(box)], [expected_cls, expected_box], rtol=1e-5)


def test_detections_threshold_suppress_per_class_and_pad():
    rois = np.array(
        [[[10, 10, 50, 50], [12, 10, 52, 50], [60, 60, 90, 90], [0, 0, 5, 5]]], "float32"
    )
    # Two classes and the background (last column).
    probabilities = np.array(
        [[[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.03, 0.9, 0.07], [0.5, 0.4, 0.1]]], "float32"
    )
    out = detections_from_rois(
        np.log(probabilities),
        np.zeros((1, 4, 8), "float32"),
        rois,
        np.array([[True, True, True, False]]),
        np.array([[80.0, 100.0]]),
        max_detections=6,
    )
    out = {k: np.asarray(v) for k, v in out.items()}
    # Class 0: RoI 0 kept, RoI 1 suppressed (IoU 0.9); class 1: RoIs 2, 1, 0 (0 and 1 overlap:
    # 0.2 > 0.1, so RoI 0's 0.1 goes); RoI 3 invalid; RoI 2's class 0 below 0.05.
    assert out["num_detections"].tolist() == [3]
    np.testing.assert_allclose(out["scores"][0, :3], [0.9, 0.8, 0.2], rtol=1e-5)
    assert out["labels"][0].tolist() == [1, 0, 1, -1, -1, -1]
    np.testing.assert_allclose(out["boxes"][0, 0], [60, 60, 90, 80], atol=1e-4)  # clipped
    assert (out["boxes"][0, 3:] == 0).all() and (out["scores"][0, 3:] == 0).all()


def test_box_head_shapes_and_config():
    head = RoIBoxHead(5, fc_channels=16, strides=(4, 8, 16, 32))
    features = [np.zeros((2, 32 // s, 32 // s, 8), "float32") for s in (1, 2, 4, 8)]
    logits, deltas = head((features, np.tile(np.array([[[0, 0, 16, 16]]], "float32"), (2, 3, 1))))
    assert tuple(logits.shape) == (2, 3, 6) and tuple(deltas.shape) == (2, 3, 20)
    assert {w.path.split("/")[-2] for w in head.weights} == {
        "shared_fc1",
        "shared_fc2",
        "fc_cls",
        "fc_reg",
    }
    assert RoIBoxHead.from_config(head.get_config()).get_config() == head.get_config()
    assert RCNN_STDS == (0.1, 0.1, 0.2, 0.2)
