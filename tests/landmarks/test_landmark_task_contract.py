"""The landmark task keeps the Task contract, on the real WFLW sample faces."""

import pathlib

from task_contract import check_task_contract

from hrnet_keras.training import apply_overrides, load_recipe

RECIPE = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "wflw_samples_tiny.py"


def test_landmark_task_keeps_the_contract(shared_data, tmp_path):
    recipe = apply_overrides(load_recipe(RECIPE), ["model.width=4", "task.input_size=64"])
    _, _, metrics = check_task_contract(recipe, shared_data / "faces" / "wflw", tmp_path)
    assert metrics
