"""The served classifier: uint8 images of any size or encoded files in, class names out (the
exported SavedModel, in a process that cannot import hrnet_keras: `test_task_contract.py`);
`predict`'s printed top five and picture."""

import io

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hrnet_keras.classification import ClassificationConfig, evaluation_crop
from hrnet_keras.data.normalization import normalize
from hrnet_keras.models.presets import CLASSIFICATION
from hrnet_keras.training import Recipe

CLASSES = ("bottle", "bus", "car", "chair", "person", "sofa")


@pytest.fixture(scope="module")
def served(crop_tree):
    """`(task, model, serving model, photos)`: a W18-small-v1 classifier of the crop classes,
    64x64 crops."""
    keras.utils.set_random_seed(0)
    recipe = Recipe(
        ClassificationConfig(class_names=CLASSES, crop_size=64),
        CLASSIFICATION.model_config(width="18-small-v1"),
    )
    task = recipe.build_task()
    model = task.build_model()
    photos = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(crop_tree.glob("*/*"))]
    return task, model, task.serving_model(model), photos


def test_served_top_k_equals_the_model_on_the_evaluation_crop(served):
    _, model, serving, photos = served
    photo = photos[0]
    outputs = serving(photo[None])
    crop = evaluation_crop(photo, 64, 0.875)
    logits = model(normalize(crop)[None], training=False)
    probabilities = tf.nn.softmax(logits).numpy()[0]
    order = np.argsort(-probabilities)[:5]
    assert [v.decode() for v in outputs["labels"].numpy()[0]] == [CLASSES[i] for i in order]
    np.testing.assert_allclose(outputs["probabilities"].numpy()[0], probabilities[order], atol=1e-6)


def test_serve_bytes_decodes_jpeg_and_png_as_the_uint8_path(served):
    _, _, serving, photos = served
    encoded, decoded = [], []
    for photo, form in zip(photos[:3], ("PNG", "JPEG", "PNG")):
        buffer = io.BytesIO()
        Image.fromarray(photo).save(buffer, format=form)
        encoded.append(buffer.getvalue())
        # TensorFlow's decoders: a PNG is exact, a JPEG as tf.io.decode_jpeg decodes it.
        decoded.append(tf.io.decode_image(buffer.getvalue(), channels=3).numpy())
    from_bytes = serving.serve_bytes(tf.constant(encoded))
    assert from_bytes["labels"].shape == (3, 5)
    for i, image in enumerate(decoded):
        expected = serving(image[None])
        np.testing.assert_array_equal(from_bytes["labels"][i], expected["labels"][0])
        np.testing.assert_allclose(
            from_bytes["probabilities"][i], expected["probabilities"][0], atol=1e-6
        )
    np.testing.assert_array_equal(decoded[0], photos[0])
    grey = io.BytesIO()
    Image.fromarray(photos[0][..., 0]).save(grey, format="PNG")
    assert serving.serve_bytes(tf.constant([grey.getvalue()]))["labels"].shape == (1, 5)


def test_predict_prints_the_top_five_and_draws(served, crop_tree, tmp_path, capsys):
    task, model, serving, _ = served
    path = sorted(crop_tree.glob("person/*.jpg"))[0]
    (written,) = task.predict(model, [str(path)], tmp_path)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(f"{path}: ")
    ranked = [entry.rsplit(" ", 1) for entry in line.split(": ", 1)[1].split(", ")]
    expected = serving(np.asarray(Image.open(path).convert("RGB"))[None])
    assert [name for name, _ in ranked] == [v.decode() for v in expected["labels"].numpy()[0]]
    np.testing.assert_allclose(
        [float(p) for _, p in ranked], expected["probabilities"].numpy()[0], atol=5e-4
    )
    assert written == str(tmp_path / f"{path.stem}_classes.png")
    with Image.open(written) as picture:
        assert picture.width >= 64 and picture.height > 64
