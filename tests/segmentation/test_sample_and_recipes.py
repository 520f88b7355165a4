"""The built-in sample dataset and demo recipe, and the paper recipes' settings."""

import filecmp
import pathlib

import numpy as np
import pytest

from hrnet_keras.models import hrnetv2
from hrnet_keras.segmentation import SegmentationConfig, SegmentationTask
from hrnet_keras.segmentation.readers import read_voc
from hrnet_keras.segmentation.sample import demo_recipe, write_sample_dataset
from hrnet_keras.training import load_recipe

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"


def test_sample_dataset_is_deterministic(tmp_path):
    first = write_sample_dataset(tmp_path / "a", num_images=6, num_val=2)
    second = write_sample_dataset(tmp_path / "b", num_images=6, num_val=2)
    comparison = filecmp.dircmp(first, second)
    assert not comparison.diff_files and not comparison.left_only
    for sub in ("JPEGImages", "SegmentationClassPNG"):
        _, mismatch, errors = filecmp.cmpfiles(
            first / sub, second / sub, [p.name for p in (first / sub).iterdir()], shallow=False
        )
        assert not mismatch and not errors
    train, val = read_voc(first, "train"), read_voc(first, "val")
    assert (len(train), len(val)) == (4, 2)
    assert train.class_names == ("background", "disc", "square", "triangle")


def test_demo_recipe_builds_its_task():
    recipe = demo_recipe()
    task = recipe.build_task()
    assert isinstance(task, SegmentationTask)
    assert task.build_model().output.shape[-1] == 4


def _load(name):
    return load_recipe(RECIPES / f"{name}.py")


def test_cityscapes_recipes_have_the_paper_settings():
    recipe = _load("cityscapes_hrnetv2_w48")
    task, optimizer, runtime = recipe.task, recipe.optimizer, recipe.runtime
    assert isinstance(task, SegmentationConfig) and task.dataset == "cityscapes"
    assert (task.num_classes, task.crop_size, task.scale_range) == (19, (512, 1024), (0.5, 2.0))
    assert task.ohem and (task.ohem_threshold, task.ohem_min_kept) == (0.9, 131072)
    assert task.class_weights[0] == 0.8373 and len(task.class_weights) == 19
    assert (optimizer.name, optimizer.learning_rate, optimizer.momentum) == ("sgd", 0.01, 0.9)
    assert (optimizer.weight_decay, optimizer.schedule, optimizer.power) == (5e-4, "poly", 0.9)
    assert runtime.epochs * runtime.steps_per_epoch == 120_000
    assert (runtime.global_batch_size, runtime.sync_bn) == (12, True)
    assert _load("cityscapes_hrnetv2_w40").model.width == 40
    small = _load("cityscapes_hrnetv2_w18_small_v2")
    assert small.model.width == "18-small-v2" and small.task.crop_size == (512, 1024)


def test_pascal_context_and_lip_recipes():
    context = _load("pascal_context_hrnetv2_w48")
    assert (context.task.num_classes, context.task.crop_size) == (59, (480, 480))
    assert (context.optimizer.learning_rate, context.optimizer.weight_decay) == (0.004, 1e-4)
    assert context.runtime.epochs * context.runtime.steps_per_epoch == 60_000
    assert _load("pascal_context_60_hrnetv2_w48").task.num_classes == 60
    lip = _load("lip_hrnetv2_w48")
    assert (lip.task.num_classes, lip.task.crop_size, lip.task.eval_flip) == (20, (473, 473), True)
    assert lip.runtime.epochs * lip.runtime.steps_per_epoch == 110_000
    assert lip.runtime.global_batch_size == 40 and lip.optimizer.learning_rate == 0.007


@pytest.mark.slow
def test_the_small_cityscapes_model_has_the_official_parameter_count():
    recipe = _load("cityscapes_hrnetv2_w18_small_v2")
    model = recipe.build_task().build_model()
    # PyTorch's count: trainable weights (Keras also counts the BN moving statistics).
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 3_939_579
    assert hrnetv2(width=4, num_classes=19).output.shape[-1] == 19
