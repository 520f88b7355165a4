"""The networks' batch norm trains and infers with the fused kernel exactly as Keras' layer
does."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from hrnet_keras.layers import NormOptions
from hrnet_keras.layers.batch_norm import BatchNormalization


def _step(layer, x, weights, training):
    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=training) * weights)
        return tape.gradient(loss, [x, layer.gamma, layer.beta])

    grads = run(tf.constant(x))
    return [np.asarray(g) for g in grads] + [
        np.asarray(layer(x, training=False)),
        np.asarray(layer.moving_mean),
        np.asarray(layer.moving_variance),
    ]


@pytest.mark.parametrize("training", [True, False])
def test_fused_training_matches_keras_batch_norm(training):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(2, 6, 5, 4)) * 3 + 1).astype("float32")
    weights = rng.normal(size=x.shape).astype("float32")
    layer = NormOptions(momentum=0.9, epsilon=1e-5).batch_norm("bn")
    assert isinstance(layer, BatchNormalization)
    reference = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    for bn in (layer, reference):
        bn.build(x.shape)
        bn.gamma.assign(rng.normal(size=4).astype("float32") if bn is layer else layer.gamma)
        # Moving statistics far from (0, 1), which inference (one fused op) normalises with.
        bn.moving_mean.assign(
            rng.normal(size=4).astype("float32") if bn is layer else layer.moving_mean
        )
        variance = rng.uniform(0.5, 4.0, size=4).astype("float32")
        bn.moving_variance.assign(variance if bn is layer else layer.moving_variance)
    for ours, theirs in zip(
        _step(layer, x, weights, training), _step(reference, x, weights, training)
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_batch_norm_serialises_as_a_batch_norm():
    layer = NormOptions(momentum=0.99).batch_norm("head_bn1")
    config = keras.saving.serialize_keras_object(layer)
    assert config["class_name"] == "BatchNormalization"  # what BN folding looks for
    restored = keras.saving.deserialize_keras_object(config)
    assert isinstance(restored, BatchNormalization) and restored.momentum == 0.99
