"""The symmetric-padding convolution equals ZeroPadding2D + a valid convolution, forward and
backward, and serialises."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from hrnet_keras.layers.conv2d import Conv2D


@pytest.mark.parametrize(
    ("kernel_size", "strides", "size"),
    [(3, 2, (8, 10)), (3, 2, (7, 9)), (5, 2, (9, 8)), (3, 1, (6, 6))],
)
def test_symmetric_padding_equals_zero_padding_then_valid(kernel_size, strides, size):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(2, *size, 3)).astype("float32"))
    pad = kernel_size // 2
    ours = Conv2D(4, kernel_size, strides=strides, symmetric_padding=pad, use_bias=True)
    reference = keras.layers.Conv2D(4, kernel_size, strides=strides, use_bias=True)
    ours.build(x.shape)
    reference.build(x.shape)
    reference.set_weights(ours.get_weights())
    padded = keras.layers.ZeroPadding2D(pad)

    def run(layer, inputs, pad_first=False):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            y = layer(padded(inputs) if pad_first else inputs)
            loss = tf.reduce_sum(y * tf.sin(y))
        return [y, *tape.gradient(loss, [inputs, *layer.trainable_weights])]

    expected = run(reference, x, pad_first=True)
    got = run(ours, x)
    assert tuple(got[0].shape) == ours.compute_output_shape(tuple(x.shape))
    for a, b in zip(got, expected):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


def test_serialises_with_its_padding():
    layer = Conv2D(2, 3, strides=2, symmetric_padding=1, name="stem_conv1")
    config = keras.saving.serialize_keras_object(layer)
    assert config["class_name"] == "Conv2D"  # what BN folding and conversion look for
    restored = keras.saving.deserialize_keras_object(config)
    assert isinstance(restored, Conv2D) and restored.symmetric_padding == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"symmetric_padding": -1}, "symmetric_padding=-1"),
        ({"symmetric_padding": 1.5}, "symmetric_padding=1.5"),
        ({"symmetric_padding": 1, "padding": "same"}, "padding='same'"),
    ],
)
def test_rejects_bad_padding(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2D(2, 3, **kwargs)
