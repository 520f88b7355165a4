"""Recipe files, `--set` overrides and how the command line finds a recipe."""

import pytest

from hrnet_keras.cli.recipe_args import resolve_recipe_path
from hrnet_keras.training import Recipe, apply_overrides, load_recipe

RECIPE = """
from hrnet_keras.training import Recipe, RuntimeConfig

def recipe():
    return Recipe(task=None, runtime=RuntimeConfig(global_batch_size=12))
"""


def test_overrides_parse_each_field_type():
    recipe = apply_overrides(
        Recipe(task=None),
        [
            "runtime.mixed_precision=true",
            "optimizer.learning_rate=1",
            "optimizer.boundaries=[30, 50]",
            "model.width=18-small-v2",
            "model.weights=None",
        ],
    )
    assert recipe.runtime.mixed_precision is True
    assert recipe.optimizer.learning_rate == 1.0 and isinstance(
        recipe.optimizer.learning_rate, float
    )
    assert recipe.optimizer.boundaries == (30, 50)
    assert recipe.model.width == "18-small-v2"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("runtime.epochs", "must look like"),
        ("runtime.epoch=3", "Unknown recipe field 'runtime.epoch'"),
        ("nowhere.epochs=3", "Unknown recipe field"),
        ("runtime.epochs=three", "expects a int. Received: runtime.epochs=three"),
        ("runtime.sync_bn=maybe", "expects true or false"),
    ],
)
def test_bad_overrides_name_the_field(override, message):
    with pytest.raises(ValueError, match=message):
        apply_overrides(Recipe(task=None), [override])


def test_load_recipe_reads_a_file_and_applies_overrides(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(RECIPE)
    recipe = load_recipe(path, ["runtime.epochs=2"])
    assert (recipe.runtime.global_batch_size, recipe.runtime.epochs) == (12, 2)


def test_load_recipe_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="Received: recipe="):
        load_recipe(tmp_path / "missing.py")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(ValueError, match="does not define a function `recipe"):
        load_recipe(empty)
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def recipe():\n    return {}\n")
    with pytest.raises(TypeError, match="must return a hrnet_keras Recipe"):
        load_recipe(wrong)


def test_a_recipe_name_resolves_in_the_recipes_folder(tmp_path, monkeypatch):
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "city.py").write_text(RECIPE)
    monkeypatch.chdir(tmp_path)
    assert resolve_recipe_path("city") == "recipes/city.py"
    assert resolve_recipe_path("city.py") == "recipes/city.py"
    with pytest.raises(FileNotFoundError, match=r"nor recipes/town\.py"):
        resolve_recipe_path("town")
