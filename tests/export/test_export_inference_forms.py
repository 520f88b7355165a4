"""The inference forms (frozen function, BN-folded SavedModel) compute what the model computes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_test_helpers import as_list, randomize_batch_norm, relative_error

from hrnet_keras.data import IMAGENET_MEAN, IMAGENET_STD
from hrnet_keras.export import export_savedmodel, inference_function
from hrnet_keras.models import fold_batch_norm, hrnet_classifier, hrnetv2, hrnetv2p

MEAN, STD = np.array(IMAGENET_MEAN, "float32"), np.array(IMAGENET_STD, "float32")

# The shallow variant: tracing and Grappler cost grows with the number of ops, not the width.
WIDTH = "18-small-v1"


@pytest.mark.parametrize(
    "build",
    [
        lambda: hrnetv2(width=WIDTH, num_classes=5, align_corners=True),
        lambda: hrnetv2p(width=WIDTH),
        lambda: hrnet_classifier(width=WIDTH, num_classes=7, input_shape=(64, 64, 3)),
    ],
    ids=["hrnetv2_head", "hrnetv2p_dict", "classifier"],
)
def test_matches_the_model_with_batch_norm_statistics(build):
    model = randomize_batch_norm(build())
    x = np.random.default_rng(1).random((2, 64, 96, 3), dtype="float32")
    if model.input_shape[1] is not None:
        x = x[:, :, :64]
    infer = inference_function(model, input_shape=x.shape[1:], batch_size=2)
    expected, actual = as_list(model(x, training=False)), as_list(infer(x))
    assert [a.shape for a in actual] == [e.shape for e in expected]
    for a, e in zip(actual, expected):
        assert relative_error(a, e) < 1e-5
    with pytest.raises(ValueError, match=r"Received: images.shape=\(1, 64, "):
        infer(x[:1])


def test_unfolded_function_keeps_dynamic_sizes():
    model = randomize_batch_norm(hrnetv2(width=WIDTH))
    infer = inference_function(model, fold_bn=False)
    for size in [(64, 64), (32, 96)]:
        x = np.random.default_rng(2).random((1, *size, 3), dtype="float32")
        assert relative_error(infer(x), model(x, training=False)) < 1e-5


@pytest.fixture(scope="module")
def small_model():
    return hrnetv2(width=WIDTH, input_shape=(32, 32, 3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "hrnetv2"}, "Received: model='hrnetv2'"),
        ({"input_shape": (32, 32)}, "Received: input_shape=(32, 32)"),
        ({"input_shape": (0, 32, 3)}, "Received: input_shape=(0, 32, 3)"),
        ({"batch_size": 0}, "Received: batch_size=0"),
        ({"batch_size": True}, "Received: batch_size=True"),
    ],
)
def test_bad_arguments(small_model, kwargs, message):
    kwargs = {"model": small_model, **kwargs}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        inference_function(**kwargs)


def test_input_shape_must_fit_a_fixed_model(small_model):
    with pytest.raises(ValueError, match=r"input shape \(32, 32, 3\)"):
        inference_function(small_model, input_shape=(64, 64, 3))


def _conv_bn_model(sequential):
    layers = [
        keras.Input((None, None, 3)),
        keras.layers.Conv2D(8, 3, strides=2, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.Conv2D(3, 1),
    ]
    if sequential:
        return randomize_batch_norm(keras.Sequential(layers))
    x = layers[0]
    for layer in layers[1:]:
        x = layer(x)
    return randomize_batch_norm(keras.Model(layers[0], x))


@pytest.mark.parametrize("sequential", [False, True], ids=["functional", "sequential"])
def test_savedmodel_serves_batch_norm_folded_by_default(tmp_path, sequential):
    model = _conv_bn_model(sequential)
    images = np.random.default_rng(3).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    expected = model(((images / 255.0 - MEAN) / STD).astype("float32"), training=False)
    served = {}
    for fold_bn in (True, False):
        path = export_savedmodel(model, tmp_path / f"fold_{fold_bn}", fold_bn=fold_bn)
        loaded = tf.saved_model.load(path)
        served[fold_bn] = {v.name.split("/")[-1].split(":")[0] for v in loaded.variables}
        outputs = loaded.signatures["serving_default"](images=tf.constant(images))["outputs"]
        assert relative_error(outputs, expected) < 1e-5
    assert "moving_mean" in served[False]
    assert "moving_mean" not in served[True]


def test_fold_batch_norm_takes_sequential_models_and_rejects_unbuilt_ones():
    model = _conv_bn_model(sequential=True)
    folded = fold_batch_norm(model)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in folded.layers)
    x = np.random.default_rng(4).random((1, 16, 16, 3), dtype="float32")
    assert relative_error(folded(x), model(x, training=False)) < 1e-5
    with pytest.raises(ValueError, match="Received: model=<Sequential"):
        fold_batch_norm(keras.Sequential([keras.layers.Dense(2)]))
