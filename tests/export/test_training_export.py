"""SavedModel export: what TF Serving loads, its numbers, and atomic writing."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from hrnet_keras.export import export_savedmodel
from hrnet_keras.utils.atomic import atomic_path

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


@pytest.fixture(scope="module")
def model():
    # Exporting HRNet's graph takes minutes on a busy CPU; the demo exports one.
    images = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same")(images)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Conv2D(3, 3, strides=2, padding="same")(keras.layers.ReLU()(x))
    return keras.Model(images, x)


def _serve(path, images):
    signature = tf.saved_model.load(path).signatures["serving_default"]
    return signature(images=tf.constant(images))["outputs"].numpy()


def test_serving_default_normalises_uint8_images_and_matches_keras(model, tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    path = export_savedmodel(model, tmp_path / "model")
    expected = model.predict_on_batch((images / 255.0 - MEAN) / STD)
    np.testing.assert_allclose(_serve(path, images), expected, atol=1e-4)


def test_float_input_in_0_255(model, tmp_path):
    images = np.random.default_rng(1).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    path = export_savedmodel(model, tmp_path / "model", input_dtype="float32")
    expected = model.predict_on_batch((images / 255.0 - MEAN) / STD)
    np.testing.assert_allclose(_serve(path, images), expected, atol=1e-4)


class _UpsamplingTask:
    """A task whose serving model takes uint8 images and returns logits at the input size."""

    def serving_model(self, model):
        images = keras.Input((None, None, 3), dtype="uint8")
        x = keras.layers.Rescaling(1 / 255.0)(images)
        return keras.Model(images, keras.layers.UpSampling2D(4)(model(x)))


def test_the_task_serving_model_is_exported_as_is(model, tmp_path):
    images = np.full((1, 32, 32, 3), 255, np.uint8)
    path = export_savedmodel(model, tmp_path / "model", task=_UpsamplingTask())
    served = _serve(path, images)
    assert served.shape == (1, 32, 32, 3)
    expected = np.repeat(np.repeat(model.predict_on_batch(images / 255.0), 4, 1), 4, 2)
    np.testing.assert_allclose(served, expected, atol=1e-4)


def test_a_failed_export_leaves_the_previous_artifact_whole(model, tmp_path):
    path = export_savedmodel(model, tmp_path / "model")
    before = sorted(os.listdir(path))

    def crash(folder):
        os.makedirs(folder)
        open(os.path.join(folder, "saved_model.pb"), "wb").close()  # half-written
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), atomic_path(path) as folder:
        crash(folder)
    assert sorted(os.listdir(path)) == before
    assert sorted(os.listdir(tmp_path)) == ["model"]  # no partial folder left behind
    with pytest.raises(FileExistsError, match="Received: path="):
        export_savedmodel(model, path, overwrite=False)
