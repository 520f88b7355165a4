"""The CascadeMaskRCNN model: a mask head per stage, the stages' masks averaged at inference,
each stage's weighted mask loss on its own positive samples, gradients, a `fit` step, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from detection_helpers import synthetic_batch, tiny_pyramid

from hrnet_keras.detection import CascadeMaskRCNN, CascadeRCNN, CascadeStage, FCNMaskHead
from hrnet_keras.detection.mask_grids import mask_grid
from hrnet_keras.detection.mask_head import class_masks, mask_loss
from hrnet_keras.detection.mask_target import mask_targets
from hrnet_keras.models import cascade_mask_rcnn

SMALL = {
    "fc_channels": 32,
    "mask_channels": 8,
    "train_pre_nms_top_k": 300,
    "test_pre_nms_top_k": 300,
    "max_proposals": 100,
    "train_max_proposals": 120,
    "rcnn_num_samples": 64,
    "max_detections": 20,
    "seed": 1,
}


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return CascadeMaskRCNN(tiny_pyramid(), 3, **SMALL)


def ellipse_masks(targets, size=(64, 96), grid=16):
    """Each instance an ellipse inside its box, as the pipeline carries masks."""
    labels = targets["labels"]
    masks = np.zeros((*labels.shape, grid, grid), np.uint8)
    regions = np.zeros((*labels.shape, 4), np.float32)
    yy, xx = np.mgrid[: size[0], : size[1]] + 0.5
    for b, m in zip(*np.nonzero(labels >= 0)):
        x1, y1, x2, y2 = targets["boxes"][b, m]
        inside = ((2 * xx - x1 - x2) / (x2 - x1)) ** 2 + ((2 * yy - y1 - y2) / (y2 - y1)) ** 2 <= 1
        masks[b, m], regions[b, m] = mask_grid(inside, (x1, y1, x2, y2), grid=grid)
    return {**targets, "masks": masks, "mask_boxes": regions}


@pytest.fixture(scope="module")
def batch():
    images, targets = synthetic_batch(seed=0, batch=2, size=(64, 96))
    return images, ellipse_masks(targets)


def test_every_stage_has_its_own_mask_head_and_losses(model):
    assert isinstance(model, CascadeRCNN)
    assert [h.name for h in model.mask_heads] == ["mask_head_0", "mask_head_1", "mask_head_2"]
    assert all(isinstance(h, FCNMaskHead) and h.conv_channels == 8 for h in model.mask_heads)
    assert len({id(h.conv_logits.kernel) for h in model.mask_heads}) == 3
    assert model.loss_names == (
        "rpn_cls", "rpn_bbox",
        "s0_cls", "s0_bbox", "s0_mask",
        "s1_cls", "s1_bbox", "s1_mask",
        "s2_cls", "s2_bbox", "s2_mask",
    )  # fmt: skip
    assert [t.name for t in model.loss_trackers] == list(model.loss_names)
    heads = {v.path.split("/")[0] for v in model.trainable_variables}
    assert heads >= {f"mask_head_{i}" for i in range(3)} | {f"bbox_head_{i}" for i in range(3)}
    config = model.get_config()
    assert (config["mask_channels"], config["mask_roi_size"], config["mask_convs"]) == (8, 14, 4)


def test_masks_are_the_stages_mean_on_the_final_boxes(model, batch):
    """mmdetection's `simple_test`: every stage's mask head on the last stage's boxes,
    sigmoid, averaged; a Cascade R-CNN's detections otherwise."""
    images, _ = batch
    first = model._first_stage(images, training=False)
    got = {k: np.asarray(v) for k, v in model.detect(first).items()}
    boxes = CascadeRCNN.detect(model, first)
    for key, value in boxes.items():
        np.testing.assert_array_equal(got[key], np.asarray(value))
    levels, labels = first["levels"][:4], np.asarray(boxes["labels"])
    stage_masks = [
        1 / (1 + np.exp(-np.asarray(class_masks(head((levels, boxes["boxes"])), labels))))
        for head in model.mask_heads
    ]
    valid = (labels >= 0)[:, :, None, None]
    want = np.where(valid, np.mean(stage_masks, axis=0), 0.0)
    assert got["masks"].shape == (2, 20, 28, 28) and valid.sum() > 0
    np.testing.assert_allclose(got["masks"], want, atol=1e-6)
    last_alone = np.where(valid, stage_masks[-1], 0.0)
    assert np.abs(got["masks"] - last_alone).max() > 1e-3


def test_each_stage_mask_loss_is_on_its_own_positives_and_weighted(model, batch, monkeypatch):
    images, targets = batch
    first = model._first_stage(images, training=False)
    seen = {}
    original = CascadeMaskRCNN.stage_losses

    def spy(self, index, first, samples, targets):
        seen[index] = samples
        return original(self, index, first, samples, targets)

    monkeypatch.setattr(CascadeMaskRCNN, "stage_losses", spy)
    losses = model.detection_losses(first, targets)
    assert sorted(losses) == sorted(model.loss_names)
    rows = 64 // 4  # the sampler's positives come first, at most a quarter
    for index, (stage, head) in enumerate(zip(model.stages, model.mask_heads)):
        samples = {k: np.asarray(v) for k, v in seen[index].items()}
        rois = samples["rois"][:, :rows]
        assert samples["positive"][:, rows:].sum() == 0 and samples["positive"].sum() > 0
        goals = mask_targets(
            rois, samples["gt_index"][:, :rows], targets["masks"], targets["mask_boxes"]
        )
        logits = head((first["levels"][:4], rois))
        want = mask_loss(logits, goals, samples["labels"][:, :rows], samples["positive"][:, :rows])
        assert float(want) > 0
        assert float(losses[f"s{index}_mask"]) == pytest.approx(
            stage.loss_weight * float(want), rel=1e-5
        )
    # Later stages sample at higher IoU from refined boxes: other positives.
    assert not np.array_equal(seen[0]["rois"], seen[2]["rois"])
    with pytest.raises(ValueError, match="CascadeMaskRCNN's targets need `masks`"):
        model.detection_losses(first, {k: v for k, v in targets.items() if k != "masks"})


def test_stage_weights_scale_the_mask_losses(model, batch):
    images, targets = batch
    stages = [CascadeStage(s.iou_threshold, s.stds, 1.0) for s in model.stages]
    plain = CascadeMaskRCNN.from_config({**model.get_config(), "stages": stages})
    plain.set_weights(model.get_weights())
    clone = CascadeMaskRCNN.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    first = clone._first_stage(images, training=False)
    weighted, unweighted = (
        clone.detection_losses(first, targets),
        plain.detection_losses(first, targets),
    )
    for index, weight in enumerate((1.0, 0.5, 0.25)):
        name = f"s{index}_mask"
        assert float(weighted[name]) == pytest.approx(weight * float(unweighted[name]), rel=1e-5)


def test_gradient_reaches_every_trainable_weight(model, batch):
    images, targets = batch
    with tf.GradientTape() as tape:
        first = model(images, training=True)
        loss = model.compute_loss(images, targets, first)
    gradients = tape.gradient(loss, model.trainable_variables)
    assert np.isfinite(float(loss))
    missing = [v.path for v, g in zip(model.trainable_variables, gradients) if g is None]
    assert not missing
    assert all(np.isfinite(np.asarray(g)).all() for g in gradients)


def test_keras_file_round_trip(model, batch, tmp_path):
    images, _ = batch
    model.save(tmp_path / "cascade_mask.keras")
    restored = keras.saving.load_model(tmp_path / "cascade_mask.keras")
    assert isinstance(restored, CascadeMaskRCNN) and restored.stages == model.stages
    assert [h.conv_channels for h in restored.mask_heads] == [8, 8, 8]
    want, got = model(images), restored(images)
    for key in want:
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(want[key]), atol=1e-5)


@pytest.mark.heavy
def test_fit_step_of_the_builder_reports_finite_stage_losses(batch):
    """`cascade_mask_rcnn` at a tiny HRNetV2p width: a gradient for every trainable weight,
    then one compiled `fit` step with every loss finite (minutes on 2 cores: the default run
    checks the gradients and losses on the tiny pyramid above)."""
    keras.utils.set_random_seed(0)
    images, targets = batch
    detector = cascade_mask_rcnn(
        width=4, num_classes=3, channels=16, rpn_channels=16, norm_eval=False, **SMALL
    )
    assert detector.name == "cascade_mask_rcnn_hrnetv2p_w4"
    with tf.GradientTape() as tape:
        loss = detector.compute_loss(images, targets, detector(images, training=True))
    gradients = tape.gradient(loss, detector.trainable_variables)
    missing = [v.path for v, g in zip(detector.trainable_variables, gradients) if g is None]
    assert not missing
    assert all(np.isfinite(np.asarray(g)).all() for g in gradients)
    detector.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
    history = detector.fit(images, targets, batch_size=2, epochs=1, verbose=0).history
    values = {k: v[0] for k, v in history.items()}
    assert set(values) == {"loss", *detector.loss_names} and len(detector.loss_names) == 11
    assert all(np.isfinite(v) for v in values.values())
    assert all(values[f"s{i}_mask"] > 0 for i in range(3))
    assert values["loss"] == pytest.approx(sum(values[n] for n in detector.loss_names), rel=1e-5)
