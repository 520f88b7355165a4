"""The CascadeRCNN model: its stage table, inference, a training step, gradients, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from detection_helpers import synthetic_batch, tiny_pyramid

from hrnet_keras.detection import CASCADE_STAGES, CascadeRCNN, CascadeStage, FasterRCNN
from hrnet_keras.detection.cascade_rcnn import refine_rois
from hrnet_keras.detection.postprocess import detections_from_rois
from hrnet_keras.detection.roi_head import sample_rois

SMALL = {
    "fc_channels": 32,
    "train_pre_nms_top_k": 300,
    "test_pre_nms_top_k": 300,
    "max_proposals": 100,
    "train_max_proposals": 120,
    "rcnn_num_samples": 64,
    "max_detections": 20,
    "seed": 1,
}
# The table of the Cascade R-CNN paper and mmdetection's cascade_rcnn_r50_fpn config.
PUBLISHED_STAGES = [
    (0.5, (0.1, 0.1, 0.2, 0.2), 1.0),
    (0.6, (0.05, 0.05, 0.1, 0.1), 0.5),
    (0.7, (0.033, 0.033, 0.067, 0.067), 0.25),
]


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return CascadeRCNN(tiny_pyramid(), 3, **SMALL)


@pytest.fixture(scope="module")
def batch():
    return synthetic_batch(seed=0, batch=2, size=(64, 96))


def test_stage_settings_are_the_published_table(model):
    table = [(s.iou_threshold, s.stds, s.loss_weight) for s in CASCADE_STAGES]
    assert table == PUBLISHED_STAGES
    assert model.stages == CASCADE_STAGES
    # Class-agnostic regression: 4 deltas a RoI in every stage; every stage its own weights.
    assert [h.fc_reg.units for h in model.roi_heads] == [4, 4, 4]
    assert [h.fc_cls.units for h in model.roi_heads] == [4, 4, 4]
    assert len({id(h.shared_fc1.kernel) for h in model.roi_heads}) == 3
    # mmdetection's cascade configs: 2000 training proposals, smooth L1 (1/9 RPN, 1 heads).
    defaults = CascadeRCNN(tiny_pyramid(), 3)
    assert (defaults.train_max_proposals, defaults.max_proposals) == (2000, 1000)
    assert (defaults.rpn_smooth_l1_beta, defaults.rcnn_smooth_l1_beta) == (1 / 9, 1.0)
    assert (defaults.rcnn_num_samples, defaults.score_threshold) == (512, 0.05)


def test_inference_outputs_are_padded(model, batch):
    images, _ = batch
    image_shape = np.array([[64.0, 96.0], [50.0, 70.0]], "float32")
    out = model({"images": images, "image_shape": image_shape})
    out = {k: np.asarray(v) for k, v in out.items()}
    assert out["boxes"].shape == (2, 20, 4) and out["labels"].dtype == np.int32
    for b in range(2):
        count = out["num_detections"][b]
        assert count > 0
        assert (out["labels"][b, count:] == -1).all() and (out["scores"][b, count:] == 0).all()
        assert (out["scores"][b, :count] > 0.05).all()
        assert (np.diff(out["scores"][b, :count]) <= 0).all()
        height, width = image_shape[b]
        assert out["boxes"][b, :count, 2].max() <= width
        assert out["boxes"][b, :count, 3].max() <= height


def test_inference_averages_stage_logits_and_decodes_with_the_last_stage(model, batch):
    """Scores: softmax of the stages' mean logits; boxes: the last stage's deltas on the
    boxes the first two refined (clipped)."""
    images, _ = batch
    first = model._first_stage(images, training=False)
    levels, shape = first["levels"][:4], first["image_shape"]
    rois, logits, stages = first["proposals"], [], model.stages
    for index, head in enumerate(model.roi_heads):
        stage_logits, deltas = head((levels, rois))
        logits.append(np.asarray(stage_logits))
        if index < 2:
            decoded = refine_rois(rois, deltas, shape, stages[index].stds)
            assert np.asarray(decoded).max() <= 96
            rois = decoded
    want = detections_from_rois(
        np.mean(logits, axis=0), deltas, rois, first["proposal_valid"], shape,
        score_threshold=0.05, iou_threshold=0.5, max_detections=20, stds=stages[2].stds,
    )  # fmt: skip
    got = model.detect(first)
    for key in want:
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(want[key]), atol=1e-5)
    # Not the last stage's logits alone.
    alone = detections_from_rois(
        logits[2], deltas, rois, first["proposal_valid"], shape, max_detections=20,
        stds=stages[2].stds,
    )  # fmt: skip
    assert not np.allclose(np.asarray(alone["scores"]), np.asarray(got["scores"]))


def test_class_agnostic_deltas_decode_once_for_every_class():
    logits = np.log(np.array([[[0.5, 0.3, 0.2]]], "float32"))
    deltas = np.array([[[0.0, 0.0, 0.0, 0.0]]], "float32")
    out = detections_from_rois(
        logits, deltas, np.array([[[0.0, 0, 10, 10]]]), np.array([[True]]),
        np.array([[20.0, 20.0]]), max_detections=3,
    )  # fmt: skip
    assert np.asarray(out["labels"]).tolist() == [[0, 1, -1]]
    np.testing.assert_allclose(np.asarray(out["boxes"])[0, :2], [[0, 0, 10, 10]] * 2)


def test_sampled_ground_truth_is_flagged():
    targets = {
        "boxes": np.array([[[0.0, 0, 20, 20], [30, 30, 60, 60], [0, 0, 0, 0]]], "float32"),
        "labels": np.array([[0, 1, -1]], "int32"),
    }
    proposals = np.array([[[1.0, 1, 20, 20], [40, 0, 60, 20]]], "float32")
    samples = sample_rois(
        proposals, np.array([[True, True]]), targets, num_classes=2, num_samples=8,
        positive_fraction=1.0, seed=keras.random.SeedGenerator(0),
    )  # fmt: skip
    rois, flags = np.asarray(samples["rois"])[0], np.asarray(samples["from_ground_truth"])[0]
    valid = np.asarray(samples["valid"])[0]
    assert valid.sum() == 4 and flags.sum() == 2
    gt = {tuple(b) for b in targets["boxes"][0, :2].tolist()}
    assert {tuple(r) for r in rois[flags].tolist()} == gt
    assert not ({tuple(r) for r in rois[valid & ~flags].tolist()} & gt)


def test_gradient_reaches_every_trainable_weight(model, batch):
    images, targets = batch
    with tf.GradientTape() as tape:
        first = model(images, training=True)
        loss = model.compute_loss(images, targets, first)
    gradients = tape.gradient(loss, model.trainable_variables)
    assert np.isfinite(float(loss))
    assert first["proposals"].shape[1] == 120  # train_max_proposals
    missing = [v.path for v, g in zip(model.trainable_variables, gradients) if g is None]
    assert not missing
    assert all(np.isfinite(np.asarray(g)).all() for g in gradients)
    heads = {v.path.split("/")[0] for v in model.trainable_variables}
    assert heads >= {"rpn_head", "bbox_head_0", "bbox_head_1", "bbox_head_2"}


def test_stage_loss_weights_scale_the_stage_losses(model, batch):
    images, targets = batch
    unweighted = CascadeRCNN.from_config(
        {**model.get_config(), "stages": [CascadeStage(s.iou_threshold, s.stds, 1.0)
                                          for s in model.stages]}
    )  # fmt: skip
    unweighted.set_weights(model.get_weights())
    clone = CascadeRCNN.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    first = clone._first_stage(images, training=False)
    weighted = clone.detection_losses(first, targets)
    plain = unweighted.detection_losses(first, targets)
    for index, weight in enumerate((1.0, 0.5, 0.25)):
        for kind in ("cls", "bbox"):
            name = f"s{index}_{kind}"
            assert float(weighted[name]) == pytest.approx(weight * float(plain[name]), rel=1e-5)
    assert float(plain["s2_cls"]) > 0 and float(plain["s0_bbox"]) > 0


@pytest.mark.slow
def test_fit_step_reports_the_stage_losses(model, batch):
    images, targets = batch
    detector = CascadeRCNN.from_config(model.get_config())
    detector.set_weights(model.get_weights())
    detector.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
    before = [np.asarray(v).copy() for v in detector.trainable_variables]
    history = detector.fit(images, targets, batch_size=2, epochs=1, verbose=0).history
    names = detector.loss_names
    assert set(history) == {"loss", *names} and len(names) == 8
    values = {k: v[0] for k, v in history.items()}
    assert all(np.isfinite(v) and v > 0 for v in values.values())
    assert values["loss"] == pytest.approx(sum(values[n] for n in names), rel=1e-5)
    changed = [
        not np.array_equal(a, np.asarray(v)) for a, v in zip(before, detector.trainable_variables)
    ]
    assert all(changed)


def test_keras_file_round_trip(model, batch, tmp_path):
    images, _ = batch
    path = tmp_path / "cascade.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, CascadeRCNN) and isinstance(restored, FasterRCNN)
    assert restored.stages == CASCADE_STAGES
    expected, actual = model(images), restored(images)
    for key in expected:
        np.testing.assert_allclose(np.asarray(actual[key]), np.asarray(expected[key]), atol=1e-5)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match=r"Received: stages=\(\)"):
        CascadeRCNN(tiny_pyramid(), 3, stages=())
    with pytest.raises(ValueError, match="Received: stds="):
        CascadeStage(0.5, (0.1, 0.1, 0.2), 1.0)
    with pytest.raises(ValueError, match=r"Received: iou_threshold=1\.5"):
        CascadeStage(1.5, (0.1, 0.1, 0.2, 0.2), 1.0)
