"""The served classifier: uint8 images of any size or encoded files in, class names out; the
SavedModel answers in a process that cannot import hrnet_keras."""

import io
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hrnet_keras.classification import ClassificationConfig, evaluation_crop
from hrnet_keras.data.normalization import normalize
from hrnet_keras.export import export_savedmodel
from hrnet_keras.models.presets import CLASSIFICATION
from hrnet_keras.training import Recipe

CLASSES = ("bottle", "bus", "car", "chair", "person", "sofa")

CHILD = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    # No hrnet_keras: drop its editable-install finder and any path that holds the package.
    sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                     and "editable" not in getattr(f, "__name__", "").lower()]
    sys.path = [p for p in sys.path if p and not os.path.isdir(os.path.join(p, "hrnet_keras"))]
    assert importlib.util.find_spec("hrnet_keras") is None, "hrnet_keras is importable"
    import numpy as np
    import tensorflow as tf
    served = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
    outputs = served(images=tf.constant(np.load(sys.argv[2])))
    assert not any(name.startswith("hrnet_keras") for name in sys.modules)
    print(json.dumps({
        "labels": [[v.decode() for v in row] for row in outputs["labels"].numpy()],
        "probabilities": outputs["probabilities"].numpy().tolist(),
    }))
    """
)


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


@pytest.mark.slow
def test_savedmodel_returns_class_names_without_hrnet_keras(served, tmp_path):
    task, model, serving, photos = served
    path = export_savedmodel(model, tmp_path / "classifier", task=task)
    batch = np.stack([np.asarray(Image.fromarray(p).resize((90, 70))) for p in photos[:4]])
    np.save(tmp_path / "batch.npy", batch)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(tmp_path / "batch.npy")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    expected = serving(batch)  # BN folded in the export: equal to float rounding
    assert answer["labels"] == [[v.decode() for v in row] for row in expected["labels"].numpy()]
    np.testing.assert_allclose(answer["probabilities"], expected["probabilities"], atol=1e-4)
