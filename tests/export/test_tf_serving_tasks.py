"""Landmarks, detection and a W18-small segmentation recipe (with a base size), each exported
as a TF Serving model folder and served by `fake_tf_serving.py` (v1 Session loader, no
hrnet_keras, warm-up replayed), answer REST requests with real photos as the tasks' own
prediction does. Slow: one export each (the demo segmenter's runs by default)."""

import io
import pathlib

import keras
import numpy as np
import pytest
from PIL import Image
from serving_helpers import fake_tf_serving

from hrnet_keras.export import export_model_version
from hrnet_keras.export.serving_client import ServingError, draw_answer, predict_rest
from hrnet_keras.training import apply_overrides, load_recipe

pytest.importorskip("tensorflow_serving")

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"


@pytest.mark.slow
def test_landmarks_from_photos_and_boxes_are_predicts(shared_data, tmp_path):
    from hrnet_keras.landmarks import LandmarkConfig
    from hrnet_keras.landmarks.annotations import FaceAnnotation
    from hrnet_keras.training import ModelConfig, Recipe

    keras.utils.set_random_seed(0)
    recipe = Recipe(
        task=LandmarkConfig("wflw", input_size=64),
        model=ModelConfig(width="18-small-v1", num_classes=98),
    )
    task = recipe.build_task()
    model = task.build_model()
    export_model_version(model, tmp_path / "models" / "faces", task=task)
    # A JPEG and a PNG of different sizes, with their annotated face boxes (x, y, w, h).
    photos = {
        shared_data / "faces/wflw/36_Football_americanfootball_ball_36_415.jpg": (
            432.3,
            113.75,
            100.69,
            101.07,
        ),
        shared_data / "faces/300w/indoor_020.png": (17.49, 169.69, 630.16, 591.73),
    }
    files = [path.read_bytes() for path in photos]
    boxes = list(photos.values())
    with fake_tf_serving({"faces": tmp_path / "models" / "faces"}, cwd=tmp_path) as (url, report):
        assert report["hrnet_keras"] is False
        assert report["warmup"]["faces"] == [
            ["serving_default", {"landmarks": [1, 98, 2]}],
            ["serving_bytes", {"image_size": [1, 2], "landmarks": [1, 98, 2]}],
        ]
        answer = predict_rest(files, model="faces", url=url, boxes=boxes)
        with pytest.raises(ServingError, match="must have a positive size and lie inside"):
            predict_rest(files[:1], model="faces", url=url, boxes=[(1000.0, 10.0, 50.0, 50.0)])
        with pytest.raises(ServingError, match="must have a positive size and lie inside"):
            predict_rest(files[:1], model="faces", url=url, boxes=[(10.0, 10.0, 0.0, 50.0)])
    zeros = np.zeros((98, 2), np.float32)
    faces = [FaceAnnotation.from_box(str(path), zeros, box) for path, box in photos.items()]
    expected = task.predict_faces(model, faces)
    assert answer["landmarks"].shape == (2, 98, 2)
    np.testing.assert_allclose(answer["landmarks"], expected, atol=0.5)
    assert answer["image_size"].tolist() == [[661, 1024], [768, 726]]
    assert draw_answer(files[1], answer, 1).size == (726, 768)


@pytest.mark.heavy
def test_detector_answers_from_files_are_its_serving_models(shared_data, tmp_path):
    keras.utils.set_random_seed(0)
    recipe = apply_overrides(
        load_recipe(RECIPES / "coco_samples_tiny_faster_rcnn.py"),
        [
            "task.min_size=96",
            "task.max_size=128",
            "task.pad_shape=(96, 128)",
            "task.channels=16",
            "task.fc_channels=32",
            "task.score_threshold=0.0",
        ],
    )
    task = recipe.build_task()
    model = task.build_model()
    version = export_model_version(model, tmp_path / "models" / "detector", task=task)
    labels = (pathlib.Path(version) / "assets" / "labels.txt").read_text().splitlines()
    assert labels == list(task.config.class_names)
    photos = [shared_data / "coco_persons" / name for name in ("000000000785.jpg",)]
    with fake_tf_serving({"detector": tmp_path / "models" / "detector"}, cwd=tmp_path) as (
        url,
        report,
    ):
        assert report["hrnet_keras"] is False
        assert [name for name, _ in report["warmup"]["detector"]] == [
            "serving_default",
            "serving_bytes",
        ]
        answer = predict_rest([p.read_bytes() for p in photos], model="detector", url=url)
        with pytest.raises(ServingError, match="is not a JPEG, PNG, GIF or BMP file"):
            predict_rest([b"%PDF-1.4"], model="detector", url=url)
    serving = task.serving_model(model)
    image = np.asarray(Image.open(photos[0]).convert("RGB"))
    expected = {k: np.asarray(v)[0] for k, v in serving(image[None]).items()}
    count = int(expected["num_detections"])
    assert count > 0 and int(answer["num_detections"][0]) == count
    np.testing.assert_allclose(answer["boxes"][0][:count], expected["boxes"][:count], atol=0.05)
    np.testing.assert_allclose(answer["scores"][0][:count], expected["scores"][:count], atol=1e-4)


@pytest.mark.heavy
def test_a_w18_small_recipe_with_a_base_size_serves_predicts_maps(shared_data, tmp_path):
    keras.utils.set_random_seed(0)
    task = load_recipe(RECIPES / "voc_sample_tiny.py").build_task()
    assert task.config.base_size == 256  # the served graph resizes, then resizes back
    model = task.build_model()
    export_model_version(model, tmp_path / "models" / "voc", task=task)
    photos = [
        shared_data / "voc_seg/JPEGImages/2011_000006.jpg",
        shared_data / "faces/cofw/001766.jpg",
    ]
    with fake_tf_serving({"voc": tmp_path / "models" / "voc"}, cwd=tmp_path) as (url, report):
        assert report["hrnet_keras"] is False
        answer = predict_rest([p.read_bytes() for p in photos], model="voc", url=url)
    masks = task.predict(model, [str(p) for p in photos], tmp_path, scales=(1.0,), flip=False)
    for i, mask in enumerate(masks[::2]):
        expected = np.asarray(Image.open(mask))
        height, width = expected.shape
        assert np.mean(answer["classes"][i][:height, :width] == expected) >= 0.999
        assert len(np.unique(expected)) > 1
    size = Image.open(io.BytesIO(photos[1].read_bytes())).size
    assert answer["image_size"][1].tolist() == [size[1], size[0]]
