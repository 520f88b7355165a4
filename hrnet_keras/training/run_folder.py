"""What a run folder (`model_dir`) records about its run, and reading it back.

`train` writes, beside the checkpoints and weights:

- `recipe.json`: `Recipe.to_dict()` of the recipe as trained, overrides applied;
- `run.json`: `{"data_dir": the absolute dataset root it trained on}`.

so that `hrnet-keras evaluate --model-dir RUN` needs nothing else.
"""

import json
import os
import tempfile

from hrnet_keras.training.callbacks import BEST, LAST
from hrnet_keras.training.recipe import Recipe, apply_overrides

RECIPE_FILE = "recipe.json"
RUN_FILE = "run.json"


def _write_json(data, path):
    # Whole or not at all: a reader never sees half a file.
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, default=str)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_run_files(recipe, model_dir, data_dir, task_files=None):
    """Writes `recipe.json` and `run.json` into `model_dir` (which exists), and the task's
    own files (`Task.run_files()`: `{name: JSON data}`)."""
    model_dir = os.fspath(model_dir)
    _write_json(recipe.to_dict(), os.path.join(model_dir, RECIPE_FILE))
    _write_json(
        {"data_dir": os.path.abspath(os.fspath(data_dir))}, os.path.join(model_dir, RUN_FILE)
    )
    for name, data in (task_files or {}).items():
        _write_json(data, os.path.join(model_dir, name))


def _read_json(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No {os.path.basename(path)} in the run folder {os.path.dirname(path)!r}: is it "
            f"the --model-dir of a `train`? Received: path={path!r}"
        )
    with open(path) as f:
        return json.load(f)


def load_run_recipe(model_dir, overrides=()):
    """The `Recipe` a run trained (its `recipe.json`), with `overrides` applied.

    Example:
    >>> import tempfile
    >>> from hrnet_keras.segmentation import SegmentationConfig
    >>> run = tempfile.mkdtemp()
    >>> write_run_files(Recipe(SegmentationConfig(num_classes=3)), run, "data/voc")
    >>> load_run_recipe(run, ["runtime.epochs=2"]).task.num_classes
    3
    """
    data = _read_json(os.path.join(os.fspath(model_dir), RECIPE_FILE))
    return apply_overrides(Recipe.from_dict(data), overrides)


def run_data_dir(model_dir):
    """The dataset root the run trained on, or None for a run folder that does not say."""
    path = os.path.join(os.fspath(model_dir), RUN_FILE)
    if not os.path.isfile(path):
        return None
    return _read_json(path).get("data_dir")


def run_weights(model_dir):
    """The run's `best.weights.h5`, else its `last.weights.h5`."""
    for name in (BEST, LAST):
        path = os.path.join(os.fspath(model_dir), name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"The run folder has neither {BEST} nor {LAST} (no epoch finished yet?). "
        f"Received: model_dir={os.fspath(model_dir)!r}"
    )
