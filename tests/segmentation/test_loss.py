"""The loss against numpy references of PyTorch's weighted cross-entropy and the official OHEM."""

import keras
import numpy as np
import pytest

from hrnet_keras.segmentation import SegmentationLoss
from hrnet_keras.segmentation.readers.cityscapes import CLASS_WEIGHTS


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _reference(logits, labels, weights=None, ohem=None, ignore=255):
    """PyTorch `CrossEntropyLoss(weight, ignore_index)`; with `ohem=(thresh, min_kept)` the
    official `OhemCrossEntropy.forward` (sort kept probabilities, threshold, plain mean)."""
    k = logits.shape[-1]
    log_probs = _log_softmax(logits.astype(np.float64)).reshape(-1, k)
    labels = labels.reshape(-1)
    weights = np.ones(k) if weights is None else np.asarray(weights, np.float64)
    valid = labels != ignore
    safe = np.where(valid, labels, 0)
    nll = -log_probs[np.arange(len(safe)), safe]
    pixel_losses = weights[safe] * nll
    if ohem is None:
        return (pixel_losses * valid).sum() / (weights[safe] * valid).sum()
    threshold, min_kept = ohem
    prob = np.exp(-nll)[valid]
    order = np.argsort(prob, kind="stable")
    prob = prob[order]
    min_value = prob[min(min_kept, prob.size - 1)]
    threshold = max(min_value, threshold)
    kept = pixel_losses[valid][order][prob < threshold]
    return kept.mean()


def _batch(num_classes=19, shape=(2, 24, 32), seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(*shape, num_classes)) * scale).astype(np.float32)
    labels = rng.integers(0, num_classes, size=shape)
    labels[rng.random(shape) < 0.2] = 255
    return logits, labels.astype(np.int32)


@pytest.mark.parametrize("weights", [None, CLASS_WEIGHTS])
def test_cross_entropy_matches_torch_semantics(weights):
    logits, labels = _batch()
    loss = SegmentationLoss(19, class_weights=weights)
    np.testing.assert_allclose(
        float(loss(labels, logits)), _reference(logits, labels, weights), rtol=1e-5
    )


@pytest.mark.parametrize("min_kept", [1, 200, 1000, 10**6])
@pytest.mark.parametrize("weights", [None, CLASS_WEIGHTS])
def test_ohem_matches_the_official_criterion(min_kept, weights):
    logits, labels = _batch(seed=min_kept)
    loss = SegmentationLoss(19, class_weights=weights, ohem=True, ohem_min_kept=min_kept)
    expected = _reference(logits, labels, weights, ohem=(0.9, min_kept))
    np.testing.assert_allclose(float(loss(labels, logits)), expected, rtol=1e-5)


def test_ohem_with_confident_pixels_uses_the_kth_probability():
    # Probabilities of the true class all above 0.9: only the threshold max(0.9, p_k) keeps any.
    logits, labels = _batch(num_classes=3, seed=5, scale=0.1)
    labels = np.where(labels == 255, 255, 0).astype(np.int32)
    logits[..., 0] += 8.0
    loss = SegmentationLoss(3, ohem=True, ohem_min_kept=100)
    expected = _reference(logits, labels, ohem=(0.9, 100))
    np.testing.assert_allclose(float(loss(labels, logits)), expected, rtol=1e-5)


def test_logits_are_upsampled_to_the_labels_like_torch():
    torch = pytest.importorskip("torch")
    logits, labels = _batch(num_classes=5, shape=(2, 32, 48), seed=1)
    small = logits[:, ::4, ::4]
    loss = SegmentationLoss(5, ohem=True, ohem_min_kept=500)
    scores = torch.nn.functional.interpolate(
        torch.from_numpy(small).permute(0, 3, 1, 2), size=(32, 48), mode="bilinear"
    )
    upsampled = scores.permute(0, 2, 3, 1).numpy()
    expected = _reference(upsampled, labels, ohem=(0.9, 500))
    np.testing.assert_allclose(float(loss(labels, small)), expected, rtol=1e-5)


def test_gradients_flow_and_the_loss_round_trips():
    logits, labels = _batch(num_classes=4, seed=2)
    loss = SegmentationLoss(4, class_weights=(1.0, 2.0, 0.5, 1.0), ohem=True, ohem_min_kept=50)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert restored.get_config() == loss.get_config()
    import tensorflow as tf

    x = tf.Variable(logits)
    with tf.GradientTape() as tape:
        value = restored(labels, x)
    assert np.isfinite(float(value)) and float(tf.reduce_sum(tf.abs(tape.gradient(value, x)))) > 0


def test_all_ignored_gives_zero_and_bad_weights_are_refused():
    logits, labels = _batch(num_classes=3)
    labels[:] = 255
    assert float(SegmentationLoss(3)(labels, logits)) == 0.0
    assert float(SegmentationLoss(3, ohem=True)(labels, logits)) == 0.0
    with pytest.raises(ValueError, match="one weight per class"):
        SegmentationLoss(3, class_weights=(1.0, 2.0))
