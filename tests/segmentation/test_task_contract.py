"""The segmentation task keeps the Task contract, on the real VOC samples."""

import pathlib

from task_contract import check_task_contract

from hrnet_keras.training import apply_overrides, load_recipe

RECIPE = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "voc_sample_tiny.py"


def test_segmentation_task_keeps_the_contract(voc_dir, tmp_path):
    recipe = apply_overrides(
        load_recipe(RECIPE),
        ["model.width=4", "task.crop_size=(64, 64)", "task.base_size=96"],
    )
    _, _, metrics = check_task_contract(recipe, voc_dir, tmp_path)
    assert 0.0 <= metrics["mIoU"] <= 1.0 and metrics["num_images"] == 3
