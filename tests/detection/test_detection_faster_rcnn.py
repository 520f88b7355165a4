"""The FasterRCNN model: inference outputs, a training step through fit, gradients, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from detection_helpers import synthetic_batch, tiny_pyramid

from hrnet_keras.detection import FasterRCNN
from hrnet_keras.detection.faster_rcnn import LOSS_NAMES

SMALL = {
    "fc_channels": 32,
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
    return FasterRCNN(tiny_pyramid(), 3, **SMALL)


@pytest.fixture(scope="module")
def batch():
    return synthetic_batch(seed=0, batch=2, size=(64, 96))


def test_inference_outputs_are_padded(model, batch):
    images, _ = batch
    image_shape = np.array([[64.0, 96.0], [50.0, 70.0]], "float32")
    out = model({"images": images, "image_shape": image_shape})
    out = {k: np.asarray(v) for k, v in out.items()}
    assert out["boxes"].shape == (2, 20, 4) and out["boxes"].dtype == np.float32
    assert out["scores"].shape == (2, 20) and out["labels"].shape == (2, 20)
    assert out["labels"].dtype == np.int32 and out["num_detections"].shape == (2,)
    for b in range(2):
        count = out["num_detections"][b]
        assert (out["labels"][b, count:] == -1).all() and (out["scores"][b, count:] == 0).all()
        assert (out["boxes"][b, count:] == 0).all()
        kept = out["labels"][b, :count]
        assert ((kept >= 0) & (kept < 3)).all()
        assert (out["scores"][b, :count] > 0.05).all()
        assert (np.diff(out["scores"][b, :count]) <= 0).all()
        height, width = image_shape[b]
        assert out["boxes"][b, :count, 2].max(initial=0) <= width
        assert out["boxes"][b, :count, 3].max(initial=0) <= height
    # An untrained head scores every class about 1 / 4: there are detections to check.
    assert out["num_detections"].min() > 0


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
    assert {v.path.split("/")[0] for v in model.trainable_variables} >= {
        "rpn_head",
        "roi_head",
    }


def test_fit_step_reports_the_four_losses(batch):
    images, targets = batch
    keras.utils.set_random_seed(0)
    detector = FasterRCNN(tiny_pyramid(), 3, **SMALL)
    detector.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
    before = [np.asarray(v).copy() for v in detector.trainable_variables]
    history = detector.fit(images, targets, batch_size=2, epochs=1, verbose=0).history
    assert set(history) == {"loss", *LOSS_NAMES}
    values = {k: v[0] for k, v in history.items()}
    assert all(np.isfinite(v) and v > 0 for v in values.values())
    assert values["loss"] == pytest.approx(sum(values[n] for n in LOSS_NAMES), rel=1e-5)
    # An untrained RPN and box head start near chance: BCE log 2, CE log 4.
    assert values["rpn_cls"] == pytest.approx(np.log(2), abs=0.05)
    assert values["rcnn_cls"] == pytest.approx(np.log(4), abs=0.1)
    unchanged = [
        v.path
        for a, v in zip(before, detector.trainable_variables)
        if np.array_equal(a, np.asarray(v))
    ]
    assert not unchanged
    # evaluate() runs the inference call; the loss recomputes the training outputs.
    scores = detector.evaluate(images, targets, batch_size=2, verbose=0, return_dict=True)
    assert set(scores) == {"loss", *LOSS_NAMES}
    assert all(np.isfinite(v) and v > 0 for v in scores.values())


def test_empty_ground_truth_trains_without_nan(model):
    images, targets = synthetic_batch(seed=3, batch=1, size=(64, 64))
    assert (targets["labels"] == -1).all()
    with tf.GradientTape() as tape:
        loss = model.compute_loss(images, targets, model(images, training=True))
    gradients = tape.gradient(loss, model.trainable_variables)
    assert np.isfinite(float(loss))
    assert all(g is not None and np.isfinite(np.asarray(g)).all() for g in gradients)


def test_keras_file_round_trip(model, batch, tmp_path):
    images, _ = batch
    path = tmp_path / "detector.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, FasterRCNN)
    assert restored.get_config()["max_detections"] == 20
    expected, actual = model(images), restored(images)
    for key in expected:
        np.testing.assert_allclose(np.asarray(actual[key]), np.asarray(expected[key]), atol=1e-5)


@pytest.mark.parametrize("norm_eval", [False, True])
def test_norm_eval_freezes_backbone_statistics(batch, norm_eval):
    detector = FasterRCNN(tiny_pyramid(), 3, norm_eval=norm_eval, **SMALL)
    moving_mean = detector.backbone.get_layer("stem_bn").moving_mean
    before = np.asarray(moving_mean).copy()
    detector(batch[0], training=True)
    assert np.array_equal(before, np.asarray(moving_mean)) == norm_eval


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="Received: num_classes=0"):
        FasterRCNN(tiny_pyramid(), 0)
    images = keras.Input((None, None, 3))
    two_levels = keras.Model(images, {"P2": images, "P3": images})
    with pytest.raises(ValueError, match="Received: backbone outputs"):
        FasterRCNN(two_levels, 3)


@pytest.mark.slow
def test_roi_window_in_config_and_predict_exact_when_compiled_with_xla(batch):
    """With a (2, 4) window most RoIs are past it: calls and `predict` pool them exactly,
    also after `compile(jit_compile=True)`; `roi_oversize="approximate"` gives other scores."""
    images, _ = batch
    keras.utils.set_random_seed(0)
    detector = FasterRCNN(tiny_pyramid(), 3, roi_window=(2, 4), **SMALL)
    config = detector.get_config()
    assert (config["roi_window"], config["roi_oversize"]) == ((2, 4), "auto")
    assert detector.roi_head.roi_align.window == (2, 4)
    clone = FasterRCNN.from_config({**config, "roi_oversize": "approximate"})
    clone.set_weights(detector.get_weights())

    exact = {k: np.asarray(v) for k, v in detector(images).items()}
    approximate = {k: np.asarray(v) for k, v in clone(images).items()}
    assert exact["num_detections"].min() > 0
    assert np.abs(exact["scores"] - approximate["scores"]).max() > 1e-4
    detector.compile(optimizer="sgd", jit_compile=True)
    predicted = detector.predict(images, batch_size=2, verbose=0)
    for key, value in exact.items():
        np.testing.assert_allclose(predicted[key], value, atol=1e-5, err_msg=key)
    with pytest.raises(ValueError, match="Received: oversize='all'"):
        FasterRCNN(tiny_pyramid(), 3, roi_oversize="all", **SMALL)
