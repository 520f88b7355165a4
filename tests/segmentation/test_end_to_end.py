"""The tiny recipe learns the real VOC samples; evaluate, predict and serving work on them."""

import json
import pathlib
import time

import numpy as np
import pytest
from PIL import Image

from hrnet_keras.data.images import read_image
from hrnet_keras.training import load_recipe, train

RECIPE = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "voc_sample_tiny.py"


@pytest.fixture(scope="module")
def trained(voc_dir, tmp_path_factory):
    recipe = load_recipe(RECIPE)
    start = time.perf_counter()
    run = train(recipe, voc_dir, tmp_path_factory.mktemp("voc_tiny"), verbose=2)
    print(f"trained {run.steps} steps in {time.perf_counter() - start:.0f} s")
    return run


@pytest.mark.slow
def test_tiny_recipe_learns_the_real_samples(trained, voc_dir):
    scores = trained.task.evaluate(trained.model, voc_dir)
    print(json.dumps(scores, indent=2))
    assert scores["num_images"] == 3 and scores["num_pixels"] > 500_000
    assert scores["mIoU"] >= 0.8
    assert scores["pixel_accuracy"] >= 0.9
    present = {k for k, v in scores["per_class_iou"].items() if v is not None}
    assert {"_background_", "person", "bus", "car", "sofa", "chair"} <= present


@pytest.mark.slow
def test_predict_writes_masks_and_overlays(trained, voc_dir, tmp_path):
    paths = trained.task.predict(trained.model, voc_dir / "JPEGImages", tmp_path)
    assert [pathlib.Path(p).name for p in paths[:2]] == [
        "2011_000003_mask.png",
        "2011_000003_overlay.png",
    ]
    mask = Image.open(paths[0])
    overlay = Image.open(paths[1])
    assert mask.mode == "P" and mask.size == (500, 338)
    assert overlay.mode == "RGB" and overlay.size == (1000, 338)
    assert set(np.unique(np.asarray(mask))) <= set(range(21))


@pytest.mark.slow
def test_serving_model_takes_uint8_and_returns_input_sized_logits(trained, voc_dir):
    image = read_image(str(voc_dir / "JPEGImages" / "2011_000025.jpg"))
    crop = image[:192, :256]
    serving = trained.task.serving_model(trained.model)
    logits = np.asarray(serving(crop[None]))[0]
    assert logits.shape == (192, 256, 21)
    predictor = trained.task.predictor(trained.model, scales=(1.0,), flip=False)
    predictor.base_size = None  # the serving graph runs at the image's own size
    expected = predictor.logits(trained.task.normalize(crop))
    np.testing.assert_allclose(logits, expected, atol=1e-3)
