"""The classification recipes: the official ImageNet settings at every published width, the
cosine variant, the folder classifier, and their recipe.json round trip."""

import json
import pathlib

import pytest

from hrnet_keras.classification import ClassificationConfig
from hrnet_keras.models.presets import preset
from hrnet_keras.training import OptimizerConfig, Recipe, load_recipe
from hrnet_keras.training.schedules import build_schedule

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"
IMAGENET = sorted(p for p in RECIPES.glob("imagenet_hrnet_w*_c.py"))


def test_every_published_classifier_has_a_recipe():
    names = {p.stem[len("imagenet_") :] for p in IMAGENET}
    assert names == {
        f"hrnet_w{w}_c" for w in ("18_small_v1", "18_small_v2", 18, 30, 32, 40, 44, 48, 64)
    }


@pytest.mark.parametrize("path", IMAGENET, ids=[p.stem for p in IMAGENET])
def test_imagenet_recipes_are_the_official_setting(path):
    recipe = load_recipe(path)
    assert recipe.model.width == preset(path.stem[len("imagenet_") :]).width
    assert recipe.model.builder == "hrnet_classifier" and recipe.model.num_classes == 1000
    assert (recipe.model.upsample, recipe.model.bn_momentum) == ("nearest", 0.9)
    optimizer = recipe.optimizer
    assert (optimizer.name, optimizer.momentum, optimizer.nesterov) == ("sgd", 0.9, True)
    assert (optimizer.weight_decay, optimizer.weight_decay_mode) == (1e-4, "l2")
    assert optimizer.learning_rate == 0.05 and recipe.runtime.global_batch_size == 128
    assert optimizer.schedule == "step" and optimizer.boundaries == (30, 60, 90)
    assert recipe.runtime.epochs == 100 and not recipe.runtime.sync_bn
    task = recipe.task
    assert task.dataset == "imagenet" and task.crop_size == 224
    assert (task.scale_range, task.ratio_range, task.flip) == ((0.08, 1.0), (3 / 4, 4 / 3), True)
    assert (task.eval_crop_pct, task.interpolation) == (0.875, "bilinear")
    assert recipe.build_task().class_names[0] == "tench"


def test_cosine_recipe_warms_up_then_decays_to_zero():
    recipe = load_recipe(RECIPES / "imagenet_hrnet_w18_c_cosine.py")
    optimizer = recipe.optimizer
    steps = 1_281_167 // 128
    assert optimizer.schedule == "cosine" and optimizer.warmup_steps == 5 * steps
    schedule = build_schedule(optimizer, total_steps=100 * steps, steps_per_epoch=steps)
    rates = [float(schedule(s)) for s in (0, 5 * steps, int(52.5 * steps), 100 * steps)]
    assert rates[0] == 0.0 and rates[1] == pytest.approx(0.05)
    assert rates[2] == pytest.approx(0.025, rel=1e-3) and rates[3] == pytest.approx(0.0, abs=1e-7)
    cosine = build_schedule(
        OptimizerConfig(schedule="cosine", learning_rate=1.0), total_steps=10, steps_per_epoch=5
    )
    assert float(cosine(0)) == 1.0 and float(cosine(5)) == pytest.approx(0.5)


def test_learning_rate_follows_the_batch_size():
    from hrnet_keras.classification.recipes import imagenet_recipe

    assert imagenet_recipe(48, global_batch_size=256).optimizer.learning_rate == 0.1
    with pytest.raises(ValueError, match="Received: schedule='poly'"):
        imagenet_recipe(48, schedule="poly")


def test_folder_classifier_recipe_and_its_json_round_trip():
    recipe = load_recipe(RECIPES / "folder_classifier.py", ["task.freeze_backbone_epochs=2"])
    assert recipe.task.dataset == "folder" and recipe.model.width == "18-small-v1"
    assert recipe.model.num_classes is None and recipe.task.freeze_backbone_epochs == 2
    recipe.task.class_names = ("cat", "dog")
    back = Recipe.from_dict(json.loads(json.dumps(recipe.to_dict())))
    assert back == recipe and isinstance(back.task, ClassificationConfig)
    assert back.task.ratio_range == recipe.task.ratio_range


def test_configuration_errors():
    with pytest.raises(ValueError, match="Received: dataset='csv'"):
        Recipe(ClassificationConfig(dataset="csv")).build_task()
    with pytest.raises(ValueError, match="Received: crop_size=100"):
        Recipe(ClassificationConfig(crop_size=100)).build_task()
    with pytest.raises(ValueError, match="Received: interpolation='nearest'"):
        Recipe(ClassificationConfig(interpolation="nearest")).build_task()
