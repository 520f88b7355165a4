"""The tiny Mask R-CNN recipes memorise their photos: mask AP50 >= 0.7, box AP50 >= 0.8 on
the training photos after a CPU run (`heavy`: minutes on a shared 2-core CPU)."""

import pathlib

import pytest

from hrnet_keras.training import evaluate, load_recipe, train

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"


@pytest.mark.heavy
@pytest.mark.parametrize(
    ("recipe_name", "folder"),
    [
        ("coco_samples_tiny_mask_rcnn.py", "coco_persons"),
        ("coco_voc_samples_tiny_mask_rcnn.py", "coco_voc"),
    ],
)
def test_tiny_mask_recipe_memorises_its_photos(
    recipe_name, folder, shared_data, tmp_path, monkeypatch
):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    recipe = load_recipe(RECIPES / recipe_name)
    run = train(recipe, shared_data / folder, tmp_path / "run", verbose=0)
    assert run.nan_step is None and run.steps == 150
    metrics = evaluate(recipe, shared_data / folder, tmp_path / "run" / "best.weights.h5")
    print(
        f"{recipe_name} on {folder}: bbox AP50 {metrics['bbox_AP50']:.3f}, "
        f"segm AP50 {metrics['segm_AP50']:.3f}"
    )
    assert metrics["bbox_AP50"] >= 0.8, metrics
    assert metrics["segm_AP50"] >= 0.7, metrics
