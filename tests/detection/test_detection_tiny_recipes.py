"""The tiny recipes memorise their photos: COCO box AP50 >= 0.8 on the training photos.

Each run takes 5-10 minutes on a shared 2-core CPU (150 steps after a minute or two of
tracing), hence `heavy`: `python -m pytest -m heavy tests/detection/test_detection_tiny_recipes.py`.
"""

import pathlib

import pytest

from hrnet_keras.training import evaluate, load_recipe, train

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"


@pytest.mark.heavy
@pytest.mark.parametrize(
    ("recipe_name", "folder"),
    [
        ("coco_samples_tiny_faster_rcnn.py", "coco_persons"),
        ("coco_voc_samples_tiny_faster_rcnn.py", "coco_voc"),
    ],
)
def test_tiny_recipe_memorises_its_photos(recipe_name, folder, shared_data, tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    recipe = load_recipe(RECIPES / recipe_name)
    run = train(recipe, shared_data / folder, tmp_path / "run", verbose=0)
    assert run.nan_step is None and run.steps == 150
    losses = run.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    metrics = evaluate(recipe, shared_data / folder, tmp_path / "run" / "best.weights.h5")
    assert metrics["bbox_AP50"] >= 0.8, metrics
