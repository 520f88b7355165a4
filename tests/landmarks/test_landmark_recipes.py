"""The landmark recipes carry the paper's settings (REFERENCE: Adam 1e-4, x0.1 at epochs 30
and 50, 60 epochs, batch 16; AFLW at 2e-4; sigma 1.5, 300W 1.0; 256x256 crops)."""

import pathlib

import pytest

from hrnet_keras.landmarks import LandmarkConfig
from hrnet_keras.training import load_recipe

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"


@pytest.mark.parametrize(
    "name, points, sigma, learning_rate",
    [
        ("wflw_hrnetv2_w18", 98, 1.5, 1e-4),
        ("300w_hrnetv2_w18", 68, 1.0, 1e-4),
        ("cofw_hrnetv2_w18", 29, 1.5, 1e-4),
        ("aflw_hrnetv2_w18", 19, 1.5, 2e-4),
    ],
)
def test_landmark_recipes_have_the_paper_settings(name, points, sigma, learning_rate):
    recipe = load_recipe(RECIPES / f"{name}.py")
    task, optimizer, runtime = recipe.task, recipe.optimizer, recipe.runtime
    assert isinstance(task, LandmarkConfig) and task.num_landmarks == points
    options = task.crop_options()
    assert (options.input_size, options.sigma, options.crop_scale) == (256, sigma, 1.25)
    assert (options.scale_range, options.rotation, options.rotation_probability) == (
        (0.75, 1.25),
        30.0,
        0.6,
    )
    assert options.flip_probability == 0.5
    assert (recipe.model.width, recipe.model.num_classes) == (18, points)
    assert (optimizer.name, optimizer.learning_rate, optimizer.schedule) == (
        "adam",
        learning_rate,
        "step",
    )
    assert tuple(optimizer.boundaries) == (30, 50) and optimizer.weight_decay == 0.0
    assert (runtime.global_batch_size, runtime.epochs) == (16, 60)


def test_the_mobile_recipe_is_the_wflw_recipe_at_the_small_width():
    mobile = load_recipe(RECIPES / "wflw_hrnetv2_w18_small_v1.py")
    paper = load_recipe(RECIPES / "wflw_hrnetv2_w18.py")
    assert mobile.model.width == "18-small-v1"
    mobile.model.width = paper.model.width
    assert mobile.to_dict() == paper.to_dict()
