"""Recipes: typed, readable descriptions of a training setting, overridable from the command line.

A recipe file (`recipes/*.py`) defines `recipe()` returning a `Recipe`. The model, optimizer
and runtime parts are shared by every task; `Recipe.task` is the task's own config dataclass
(data, loss, evaluation), whose `build_task` names the Task class directly.
"""

import ast
import dataclasses
import importlib.util
import os
import typing

from hrnet_keras.models.options import SEGMENTATION_DEFAULTS


@dataclasses.dataclass
class ModelConfig:
    """Arguments of the `hrnet_keras.models` builder the recipe trains.

    The defaults are the segmentation family's (`hrnet_keras.models.presets.SEGMENTATION`);
    `presets.FACE.model_config(...)` and the other families' give theirs.

    Attributes:
        builder: `"hrnetv2"`, `"hrnetv1"`, `"hrnetv1h"` or `"hrnet_classifier"`.
        width: see `hrnet_keras.models.hrnet_spec`.
        num_classes: classes or landmarks of the head.
        upsample / align_corners / bn_momentum / bn_epsilon: as the builders
            (`hrnet_keras.models.options.HRNetOptions`).
        weights: initial weights (for example a converted ImageNet checkpoint), or None.
    """

    builder: str = "hrnetv2"
    width: typing.Any = 48
    num_classes: int | None = None
    upsample: str = SEGMENTATION_DEFAULTS.upsample
    align_corners: bool = SEGMENTATION_DEFAULTS.align_corners
    bn_momentum: float = SEGMENTATION_DEFAULTS.bn_momentum
    bn_epsilon: float = SEGMENTATION_DEFAULTS.bn_epsilon
    weights: str | None = None

    def build(self, **kwargs):
        """The model: `builder` called with this config's fields; `kwargs` (`num_classes=`,
        `input_shape=`, `sync_bn=`) override them."""
        # Imported here: the presets import the segmentation package, which imports this one.
        from hrnet_keras.models.presets import BUILDERS

        if self.builder not in BUILDERS:
            raise ValueError(
                f"`model.builder` must be one of {sorted(BUILDERS)}. "
                f"Received: builder={self.builder!r}"
            )
        arguments = {
            "width": self.width,
            "upsample": self.upsample,
            "align_corners": self.align_corners,
            "bn_momentum": self.bn_momentum,
            "bn_epsilon": self.bn_epsilon,
            "weights": self.weights,
        }
        if self.num_classes is not None:
            arguments["num_classes"] = self.num_classes
        return BUILDERS[self.builder](**{**arguments, **kwargs})


@dataclasses.dataclass
class OptimizerConfig:
    """Optimizer and learning-rate schedule.

    Attributes:
        name: `"sgd"`, `"adam"` or `"adamw"`.
        learning_rate: base rate, for `RuntimeConfig.global_batch_size`.
        momentum / nesterov: SGD's.
        weight_decay: strength; how it applies is `weight_decay_mode`.
        weight_decay_mode: `"l2"` adds `weight_decay / 2 * |w|^2` of the kernels to the loss,
            which is what PyTorch's `SGD(weight_decay=)` does (the paper's setting);
            `"decoupled"` shrinks weights by `lr * weight_decay` each step (AdamW-style).
        schedule: `"poly"` (lr * (1 - step / total) ** power, per iteration), `"step"`
            (times `decay_rate` at each epoch in `boundaries`) or `"constant"`.
        warmup_steps: linear warm-up from 0 over that many steps.
    """

    name: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    weight_decay_mode: str = "l2"
    schedule: str = "poly"
    power: float = 0.9
    boundaries: tuple = ()
    decay_rate: float = 0.1
    warmup_steps: int = 0


@dataclasses.dataclass
class RuntimeConfig:
    """How training runs.

    Attributes:
        global_batch_size: summed over all replicas and workers.
        epochs: passes of `steps_per_epoch` steps.
        steps_per_epoch: None for one pass over the training split.
        checkpoint_every_steps: also checkpoint mid-epoch, for resumption after a kill.
        seed: seeds Python, NumPy, TensorFlow and the data pipeline.
        mixed_precision: train in `mixed_float16` (`mixed_bfloat16` on CPU).
        distribution: `"auto"` (MultiWorkerMirroredStrategy when TF_CONFIG is set, else
            MirroredStrategy over the visible devices, or the default strategy when that is
            one CPU), `"mirrored"`, `"multi_worker"` or `"one_device"`; see
            `hrnet_keras.training.distribution.create_strategy`.
        sync_bn: synchronised batch norm across replicas.
    """

    global_batch_size: int = 8
    epochs: int = 1
    steps_per_epoch: int | None = None
    checkpoint_every_steps: int = 500
    seed: int = 0
    mixed_precision: bool = False
    distribution: str = "auto"
    sync_bn: bool = True


@dataclasses.dataclass
class Recipe:
    """A whole training setting: `task` is the task's config dataclass (it has `build_task`)."""

    task: typing.Any
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)

    def build_task(self):
        """The `Task` this recipe trains."""
        return self.task.build_task(self)

    def to_dict(self):
        return {"task_type": type(self.task).__name__, **dataclasses.asdict(self)}


def _parse_value(text, current, key):
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    if isinstance(current, bool):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise ValueError(f"`--set {key}` expects true or false. Received: {key}={text}")
    elif isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    elif isinstance(current, tuple) and isinstance(value, list):
        return tuple(value)
    elif (
        current is not None
        and value is not None
        and not isinstance(value, type(current))
        # A width may be an int or a name such as 18-small-v2.
        and not (key.split(".")[-1] == "width" and isinstance(value, str))
    ):
        raise ValueError(
            f"`--set {key}` expects a {type(current).__name__}. Received: {key}={text}"
        )
    return value


def apply_overrides(recipe, overrides):
    """Applies `key=value` strings (`runtime.global_batch_size=4`) to `recipe`, in place.

    Example:
    >>> from hrnet_keras.training.recipe import Recipe, apply_overrides
    >>> r = apply_overrides(Recipe(task=None), ["runtime.epochs=3", "optimizer.name=adam"])
    >>> r.runtime.epochs, r.optimizer.name
    (3, 'adam')
    """
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ValueError(f"Overrides must look like `section.field=value`. Received: {item!r}")
        target = recipe
        parts = key.split(".")
        for part in parts[:-1]:
            if not dataclasses.is_dataclass(target) or not hasattr(target, part):
                raise ValueError(f"Unknown recipe field {key!r}. Received: {item!r}")
            target = getattr(target, part)
        field = parts[-1]
        if not dataclasses.is_dataclass(target) or field not in {
            f.name for f in dataclasses.fields(target)
        }:
            raise ValueError(f"Unknown recipe field {key!r}. Received: {item!r}")
        setattr(target, field, _parse_value(text, getattr(target, field), key))
    return recipe


def load_recipe(path, overrides=()):
    """Reads a recipe file (a `.py` that defines `recipe()`), then applies `overrides`."""
    path = os.fspath(path)
    if not path.endswith(".py") or not os.path.isfile(path):
        raise FileNotFoundError(
            f"A recipe is a Python file that defines `recipe()`. Received: recipe={path!r}"
        )
    spec = importlib.util.spec_from_file_location(
        f"hrnet_recipe_{os.path.basename(path)[:-3]}", path
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "recipe", None)):
        raise ValueError(f"The recipe file {path!r} does not define a function `recipe()`.")
    recipe = module.recipe()
    if not isinstance(recipe, Recipe):
        raise TypeError(
            f"`recipe()` in {path!r} must return a hrnet_keras Recipe. "
            f"Received: {type(recipe).__name__}"
        )
    return apply_overrides(recipe, overrides)
