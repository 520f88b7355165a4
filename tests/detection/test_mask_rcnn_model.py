"""The MaskRCNN model and its mask head: outputs, one training step, saving, sizes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from detection_helpers import synthetic_batch, tiny_pyramid

from hrnet_keras.detection import FCNMaskHead, MaskRCNN
from hrnet_keras.detection.mask_grids import mask_grid
from hrnet_keras.detection.mask_head import mask_loss
from hrnet_keras.detection.mask_rcnn import MASK_LOSS_NAMES

SMALL = {
    "fc_channels": 32,
    "mask_channels": 8,
    "train_pre_nms_top_k": 300,
    "test_pre_nms_top_k": 300,
    "max_proposals": 100,
    "rcnn_num_samples": 64,
    "max_detections": 20,
    "seed": 1,
}


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return MaskRCNN(tiny_pyramid(), 3, **SMALL)


@pytest.fixture(scope="module")
def batch():
    images, targets = synthetic_batch(seed=0, batch=2, size=(64, 96))
    # Each instance: an ellipse inside its box, as the pipeline carries it.
    masks = np.zeros((2, 4, 16, 16), np.uint8)
    regions = np.zeros((2, 4, 4), np.float32)
    yy, xx = np.mgrid[:64, :96] + 0.5
    for b in range(2):
        for m in range(4):
            if targets["labels"][b, m] < 0:
                continue
            x1, y1, x2, y2 = targets["boxes"][b, m]
            inside = ((xx - (x1 + x2) / 2) / ((x2 - x1) / 2)) ** 2 + (
                (yy - (y1 + y2) / 2) / ((y2 - y1) / 2)
            ) ** 2 <= 1
            masks[b, m], regions[b, m] = mask_grid(inside, (x1, y1, x2, y2), grid=16)
    return images, {**targets, "masks": masks, "mask_boxes": regions}


def test_mask_head_layout_and_config():
    head = FCNMaskHead(5, conv_channels=16)
    features = [np.ones((1, 64 // s, 64 // s, 8), "float32") for s in (4, 8, 16, 32)]
    out = head((features, np.array([[[0, 0, 30, 30], [8, 8, 60, 40]]], "float32")))
    assert tuple(out.shape) == (1, 2, 28, 28, 5)
    names = [w.path.split("/", 1)[1] for w in head.trainable_weights]
    assert names[:2] == ["conv0/kernel", "conv0/bias"] and "upsample/kernel" in names
    # mmdetection's FCNMaskHead: 4 x 3x3 convs, a 2x2 deconv, a 1x1 to the classes.
    expected = (8 * 9 * 16 + 16) + 3 * (16 * 9 * 16 + 16) + (16 * 4 * 16 + 16) + (16 * 5 + 5)
    assert head.count_params() == expected
    clone = FCNMaskHead.from_config(head.get_config())
    assert clone.get_config() == head.get_config()


def test_mask_loss_is_mean_bce_over_positive_pixels():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (2, 3, 4, 4, 3)).astype("float32")
    targets = (rng.uniform(size=(2, 3, 4, 4)) > 0.5).astype("float32")
    labels = np.array([[0, 2, 3], [1, 1, 0]])
    positive = np.array([[True, True, False], [True, False, False]])
    picked = np.stack(
        [logits[b, r, :, :, min(labels[b, r], 2)] for b in range(2) for r in range(3)]
    )
    probability = 1 / (1 + np.exp(-picked))
    bce = -(
        targets.reshape(6, 4, 4) * np.log(probability)
        + (1 - targets.reshape(6, 4, 4)) * np.log(1 - probability)
    )
    want = bce[positive.reshape(-1)].mean()
    np.testing.assert_allclose(float(mask_loss(logits, targets, labels, positive)), want, rtol=1e-5)
    none = np.zeros_like(positive)
    assert float(mask_loss(logits, targets, labels, none)) == 0.0


def test_inference_returns_masks_of_detections(model, batch):
    images, _ = batch
    out = {k: np.asarray(v) for k, v in model(images).items()}
    assert out["masks"].shape == (2, 20, 28, 28)
    for b in range(2):
        count = out["num_detections"][b]
        assert (out["masks"][b, count:] == 0).all()
        assert ((out["masks"][b, :count] > 0) & (out["masks"][b, :count] < 1)).all()


def test_gradient_reaches_every_trainable_weight(model, batch):
    images, targets = batch
    with tf.GradientTape() as tape:
        first = model(images, training=True)
        losses = model.detection_losses(first, targets)
        total = sum(losses.values())
    assert sorted(losses) == sorted(MASK_LOSS_NAMES)
    assert all(np.isfinite(float(v)) for v in losses.values()) and float(losses["rcnn_mask"]) > 0
    grads = tape.gradient(total, model.trainable_weights)
    missing = [w.path for w, g in zip(model.trainable_weights, grads) if g is None]
    assert not missing
    assert all(np.isfinite(np.asarray(g)).all() for g in grads)
    with pytest.raises(ValueError, match="masks"):
        model.detection_losses(first, {k: v for k, v in targets.items() if k != "masks"})


def test_keras_file_round_trip(model, batch, tmp_path):
    images, _ = batch
    path = tmp_path / "mask_rcnn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, MaskRCNN) and loaded.mask_channels == 8
    want, got = model(images), loaded(images)
    np.testing.assert_allclose(np.asarray(got["masks"]), np.asarray(want["masks"]), atol=1e-5)
