"""The exported detector serves photos and encoded files in a process that cannot import
hrnet_keras, with TensorFlow's own ops, and its boxes are in each photo's pixels."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from hrnet_keras.data.images import read_image
from hrnet_keras.export import export_savedmodel
from hrnet_keras.training import apply_overrides, load_recipe

RECIPE = (
    pathlib.Path(__file__).resolve().parents[2] / "recipes" / "coco_samples_tiny_faster_rcnn.py"
)
PHOTOS = ("000000000785.jpg", "000000040083.jpg")  # 640 x 425 and 500 x 333

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
    signatures = tf.saved_model.load(sys.argv[1]).signatures
    photos = [open(path, "rb").read() for path in sys.argv[2:]]
    results = {"bytes": signatures["serving_bytes"](images=tf.constant(photos))}
    for i, photo in enumerate(photos):
        image = tf.io.decode_jpeg(photo, channels=3, dct_method="INTEGER_ACCURATE")[None]
        results[f"uint8_{i}"] = signatures["serving_default"](images=image)
    assert not any(name.startswith("hrnet_keras") for name in sys.modules)
    print(json.dumps({key: {k: v.numpy().tolist() for k, v in outputs.items()}
                      for key, outputs in results.items()}))
    """
)


@pytest.mark.slow
def test_savedmodel_serves_photos_and_files_without_hrnet_keras(shared_data, tmp_path):
    keras.utils.set_random_seed(0)
    recipe = apply_overrides(
        load_recipe(RECIPE),
        [
            "task.min_size=96",
            "task.max_size=128",
            "task.pad_shape=(96, 128)",
            "task.channels=16",
            "task.fc_channels=32",
            # An untrained head: keep every box, so that there are boxes to compare.
            "task.score_threshold=0.0",
        ],
    )
    task = recipe.build_task()
    model = task.build_model()
    path = export_savedmodel(model, tmp_path / "detector", task=task)
    photos = [str(shared_data / "coco_persons" / name) for name in PHOTOS]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), *photos],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])

    serving = task.serving_model(model)
    for i, photo in enumerate(photos):
        # The served graph decodes JPEGs with the accurate integer DCT.
        image = tf.io.decode_jpeg(
            pathlib.Path(photo).read_bytes(), channels=3, dct_method="INTEGER_ACCURATE"
        ).numpy()
        height, width = read_image(photo).shape[:2]
        files = {k: np.asarray(v)[i] for k, v in served["bytes"].items()}
        one = {k: np.asarray(v)[0] for k, v in served[f"uint8_{i}"].items()}
        expected = {k: np.asarray(v)[0] for k, v in serving(image[None]).items()}
        count = int(expected["num_detections"])
        assert count > 0 and int(files["num_detections"]) == int(one["num_detections"]) == count
        # Served from a JPEG file or from its pixels, in or out of this process: the same.
        for outputs in (files, one):
            np.testing.assert_allclose(outputs["boxes"], expected["boxes"], atol=0.05)
            np.testing.assert_allclose(outputs["scores"], expected["scores"], atol=1e-4)
            np.testing.assert_array_equal(outputs["labels"], expected["labels"])
        # In the photo's pixels, not the canvas': some reach beyond the 128 x 96 canvas.
        boxes = files["boxes"][:count]
        assert boxes[:, 2].max() <= width and boxes[:, 3].max() <= height
        assert boxes[:, 2].max() > 128


def test_a_serving_model_without_serve_bytes_keeps_one_signature(tmp_path):
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 1)])
    path = export_savedmodel(model, tmp_path / "model")
    assert list(tf.saved_model.load(path).signatures) == ["serving_default"]
