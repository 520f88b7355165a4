"""A run's recipe.json loads back into the same Recipe: every recipe of recipes/, and the toy's."""

import dataclasses
import json
import pathlib

import pytest
from training_toy_task import ToyConfig

from hrnet_keras.landmarks import LandmarkConfig
from hrnet_keras.segmentation import SegmentationConfig
from hrnet_keras.training import (
    ModelConfig,
    Recipe,
    load_recipe,
    load_run_recipe,
    register_task_config,
    run_data_dir,
    run_weights,
    task_config_class,
)
from hrnet_keras.training.run_folder import write_run_files

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECIPES = sorted((ROOT / "recipes").glob("*.py"))


def _json_round_trip(recipe):
    return Recipe.from_dict(json.loads(json.dumps(recipe.to_dict(), default=str)))


def test_every_shipped_recipe_is_checked():
    assert len(RECIPES) >= 10


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_round_trips_through_json(path):
    recipe = load_recipe(path)
    again = _json_round_trip(recipe)
    assert again == recipe
    # Equal is not enough: (1, 2) == [1, 2] is False, but 2 == 2.0 is True.
    assert repr(again) == repr(recipe)
    assert again.to_dict() == recipe.to_dict()


def test_round_trip_keeps_the_awkward_values():
    task = SegmentationConfig(
        crop_size=(64, 96),
        flip_pairs=((14, 15), (16, 17)),
        class_weights=None,
        label_mapping={-1: 255, 7: 0, 26: 13},
        eval_stride_ratio=2 / 3,
    )
    recipe = Recipe(task, ModelConfig(width="18-small-v2", num_classes=None))
    recipe.optimizer.boundaries = (30, 60)
    recipe.optimizer.learning_rate = 1  # an int in a float field comes back a float
    again = _json_round_trip(recipe)
    assert again.task.label_mapping == {-1: 255, 7: 0, 26: 13}
    assert again.task.flip_pairs == ((14, 15), (16, 17))
    assert again.model.width == "18-small-v2" and again.model.num_classes is None
    assert again.optimizer.boundaries == (30, 60)
    assert repr(again.optimizer.learning_rate) == "1.0"
    recipe.optimizer.learning_rate = 1.0
    assert repr(again) == repr(recipe)
    landmarks = Recipe(LandmarkConfig("300w", "train.csv", {"full": "valid.csv", "7": "x.csv"}))
    # Integer-like keys come back as ints: the price of label mappings in JSON.
    assert _json_round_trip(landmarks).task.eval_annotations == {"full": "valid.csv", 7: "x.csv"}


def test_registered_task_configs_round_trip():
    recipe = Recipe(ToyConfig(num_examples=8, nan_from_example=None))
    assert task_config_class("ToyConfig") is ToyConfig
    assert _json_round_trip(recipe) == recipe


def test_bad_recipe_dicts_name_what_is_wrong():
    data = Recipe(SegmentationConfig()).to_dict()
    with pytest.raises(ValueError, match=r"Unknown task type 'NoSuchConfig'.*SegmentationConfig"):
        Recipe.from_dict({**data, "task_type": "NoSuchConfig"})
    with pytest.raises(ValueError, match=r"Unknown recipe field task\.crop"):
        Recipe.from_dict({**data, "task": {**data["task"], "crop": 3}})
    with pytest.raises(ValueError, match=r"Unknown recipe field runtime\.gpus"):
        Recipe.from_dict({**data, "runtime": {"gpus": 8}})
    with pytest.raises(ValueError, match=r"Unknown recipe section 'data'"):
        Recipe.from_dict({**data, "data": {}})
    with pytest.raises(ValueError, match="`task_type` and `task`"):
        Recipe.from_dict({"task": {}})
    # A field a newer version added and an older recipe.json lacks takes its default.
    del data["runtime"]["sync_bn"]
    assert Recipe.from_dict(data).runtime.sync_bn is True


def test_registering_checks_the_class():
    with pytest.raises(TypeError, match="dataclass with a `build_task"):
        register_task_config(type("NotAConfig", (), {}))

    @dataclasses.dataclass
    class SegmentationConfig:  # the name of a library config, another class
        def build_task(self, recipe):
            raise NotImplementedError

    with pytest.raises(ValueError, match="already named 'SegmentationConfig'"):
        register_task_config(SegmentationConfig)


def test_run_folder_files(tmp_path):
    recipe = load_recipe(ROOT / "recipes" / "wflw_samples_tiny.py")
    write_run_files(recipe, tmp_path, "data/wflw")
    assert load_run_recipe(tmp_path) == recipe
    assert load_run_recipe(tmp_path, ["runtime.epochs=7"]).runtime.epochs == 7
    assert run_data_dir(tmp_path) == str(pathlib.Path("data/wflw").resolve())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recipe.json", "run.json"]
    with pytest.raises(FileNotFoundError, match=r"neither best\.weights\.h5 nor last"):
        run_weights(tmp_path)
    (tmp_path / "last.weights.h5").write_bytes(b"")
    assert run_weights(tmp_path) == str(tmp_path / "last.weights.h5")
    (tmp_path / "best.weights.h5").write_bytes(b"")
    assert run_weights(tmp_path) == str(tmp_path / "best.weights.h5")
    with pytest.raises(FileNotFoundError, match=r"No recipe\.json in the run folder"):
        load_run_recipe(tmp_path / "nothing")
    assert run_data_dir(tmp_path / "nothing") is None
