"""One normalisation: the tensor function, the layer (loadable under its registered name from
files saved before it moved), the served SavedModel; sharding of keyed epoch streams."""

import json

import keras
import numpy as np
import tensorflow as tf

from hrnet_keras.data import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageNormalization,
    epoch_stream,
    normalize,
    shard,
)


def _images():
    return np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3)).astype(np.uint8)


def test_function_and_layer_compute_the_formula():
    images = _images()
    expected = (images / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(normalize(images).numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(np.asarray(ImageNormalization()(images)), expected, atol=1e-5)


def test_a_model_saved_with_the_old_module_path_still_loads(tmp_path):
    inputs = keras.Input((None, None, 3), dtype="uint8")
    model = keras.Model(inputs, ImageNormalization(mean=(0.5,) * 3, name="normalize")(inputs))
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(restored.predict_on_batch(_images()), model(_images()), atol=1e-6)
    config = keras.saving.serialize_keras_object(model)
    text = json.dumps(config)
    assert '"registered_name": "hrnet_keras>ImageNormalization"' in text
    # Files written when the layer lived in hrnet_keras.segmentation.preprocessing.
    old = json.loads(
        text.replace("hrnet_keras.data.normalization", "hrnet_keras.segmentation.preprocessing")
    )
    assert "hrnet_keras.segmentation.preprocessing" in json.dumps(old)
    clone = keras.saving.deserialize_keras_object(old)
    assert clone.get_layer("normalize").get_config()["mean"] == (0.5, 0.5, 0.5)


def test_export_savedmodel_normalises_as_training_does(tmp_path):
    from hrnet_keras.export import export_savedmodel

    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 1)])
    path = export_savedmodel(model, tmp_path / "model", fold_bn=False)
    served = tf.saved_model.load(path).signatures["serving_default"]
    images = _images()
    expected = model.predict_on_batch(normalize(images))
    np.testing.assert_allclose(served(images=tf.constant(images))["outputs"], expected, atol=1e-5)


def test_shards_of_a_keyed_stream_hold_each_example_once_per_epoch():
    count, pipelines = 7, 3
    seen = []
    for pipeline in range(pipelines):
        context = tf.distribute.InputContext(pipelines, pipeline, 1)
        seen += [(int(e), int(i)) for e, i in shard(epoch_stream(count, 5), context).take(7)]
    for epoch in (0, 1):
        assert sorted(i for e, i in seen if e == epoch) == list(range(count))
    first = [int(i) for _, i in epoch_stream(count, 5).take(count)]
    assert first != list(range(count))  # shuffled
    assert first == [int(i) for _, i in epoch_stream(count, 5).take(count)]  # reproducibly
