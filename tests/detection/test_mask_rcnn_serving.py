"""The served Mask R-CNN: masks pasted at the photo's resolution, a SavedModel that runs in a
process without hrnet_keras, and pictures with masks."""

import io
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from detection_helpers import tiny_pyramid
from PIL import Image

from hrnet_keras.detection import DetectionConfig, MaskRCNN, paste_masks
from hrnet_keras.detection.drawing import draw_detections
from hrnet_keras.detection.pipeline import resize_image, to_canvas
from hrnet_keras.detection.serving import detection_serving_model
from hrnet_keras.export import export_savedmodel


@pytest.fixture(scope="module")
def served():
    keras.utils.set_random_seed(0)
    model = MaskRCNN(
        tiny_pyramid(),
        3,
        fc_channels=32,
        mask_channels=8,
        test_pre_nms_top_k=300,
        max_proposals=100,
        max_detections=10,
        score_threshold=0.0,
    )
    config = DetectionConfig(class_names=("a", "b", "c"), min_size=64, max_size=96)
    return model, config


@pytest.mark.slow
def test_served_masks_are_pasted_at_the_photo_size(served):
    model, config = served
    image = np.random.default_rng(0).integers(0, 255, (50, 70, 3), np.uint8)
    out = detection_serving_model(model, config)(image[None])
    assert out["masks"].shape == (1, 10, 50, 70) and out["masks"].dtype == tf.uint8
    resized, size, _ = resize_image(tf.constant(image), config)
    canvas = to_canvas(resized, config)[None]
    raw = model({"images": canvas, "image_shape": tf.stack(size)[None]})
    count = int(out["num_detections"][0])
    assert count > 0
    want = np.asarray(paste_masks(raw["masks"][0, :count], out["boxes"][0, :count], 50, 70))
    np.testing.assert_array_equal(out["masks"][0, :count].numpy(), want)
    assert out["masks"][0, :count].numpy().any()
    box_masks = detection_serving_model(model, config, paste_masks=False)(image[None])["masks"]
    assert box_masks.shape == (1, 10, 28, 28)

    picture, drawn = draw_detections(
        image,
        {key: value[0].numpy() for key, value in out.items()},
        config.class_names,
        score_threshold=0.0,
    )
    boxes_only, _ = draw_detections(
        image,
        {key: value[0].numpy() for key, value in out.items() if key != "masks"},
        config.class_names,
        score_threshold=0.0,
    )
    assert drawn == count
    assert (np.asarray(picture) != np.asarray(boxes_only)).any()


@pytest.mark.heavy
def test_savedmodel_serves_masks_without_hrnet_keras(served, tmp_path):
    model, config = served
    from hrnet_keras.detection import DetectionTask
    from hrnet_keras.training import ModelConfig, Recipe

    task = DetectionTask(Recipe(config, ModelConfig(builder="mask_rcnn", width=4)))
    path = export_savedmodel(model, tmp_path / "served", task=task)
    photo = tmp_path / "photo.png"
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 30, 3), 128, np.uint8)).save(buffer, format="PNG")
    photo.write_bytes(buffer.getvalue())
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["hrnet_keras"] = None  # importing it would fail
        import tensorflow as tf
        signatures = tf.saved_model.load({str(path)!r}).signatures
        out = signatures["serving_default"](images=tf.zeros((1, 50, 70, 3), tf.uint8))
        print(tuple(out["masks"].shape))
        data = open({str(photo)!r}, "rb").read()
        out = signatures["serving_bytes"](images=tf.constant([data]))
        print(tuple(out["masks"].shape), tuple(out["boxes"].shape))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == "(1, 10, 50, 70)"
    assert lines[-1] == "(1, 10, 40, 30) (1, 10, 4)"
