"""Recipes: typed, readable descriptions of a training setting, overridable from the command line.

A recipe file (`recipes/*.py`) defines `recipe()` returning a `Recipe`. The model, optimizer
and runtime parts are shared by every task; `Recipe.task` is the task's own config dataclass
(data, loss, evaluation), whose `build_task` names the Task class directly.
"""

import ast
import dataclasses
import importlib.util
import os
import types
import typing

from hrnet_keras.models.options import SEGMENTATION_DEFAULTS


@dataclasses.dataclass
class ModelConfig:
    """Arguments of the `hrnet_keras.models` builder the recipe trains.

    The defaults are the segmentation family's (`hrnet_keras.models.presets.SEGMENTATION`);
    `presets.FACE.model_config(...)` and the other families' give theirs.

    Attributes:
        builder: `"hrnetv2"`, `"hrnetv1"`, `"hrnetv1h"`, `"hrnet_classifier"` or
            `"faster_rcnn"` (see `hrnet_keras.models.presets.BUILDERS`).
        width: see `hrnet_keras.models.hrnet_spec`.
        num_classes: classes or landmarks of the head.
        upsample / align_corners / bn_momentum / bn_epsilon: as the builders
            (`hrnet_keras.models.options.HRNetOptions`).
        weights: initial weights (for example a converted ImageNet checkpoint), or None.
        backbone: the backbone of a builder that takes one (`faster_rcnn`); None is the
            builder's default.
        backbone_weights: initial weights of the backbone alone (an ImageNet classifier
            converted by `hrnet-keras convert CHECKPOINT OUT.keras --model backbone`, or the
            PyTorch checkpoint itself), loaded by the task before training, for builders
            whose model has a separate backbone (`faster_rcnn`); or None.
    """

    builder: str = "hrnetv2"
    width: typing.Any = 48
    num_classes: int | None = None
    upsample: str = SEGMENTATION_DEFAULTS.upsample
    align_corners: bool = SEGMENTATION_DEFAULTS.align_corners
    bn_momentum: float = SEGMENTATION_DEFAULTS.bn_momentum
    bn_epsilon: float = SEGMENTATION_DEFAULTS.bn_epsilon
    weights: str | None = None
    backbone: str | None = None
    backbone_weights: str | None = None

    def build(self, **kwargs):
        """The model: `builder` called with this config's fields; `kwargs` (`num_classes=`,
        `input_shape=`, `sync_bn=`) override them."""
        # Imported here: the presets import the segmentation package, which imports this one.
        from hrnet_keras.models.presets import BACKBONE_BUILDERS, BUILDERS

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
        if (self.backbone is not None or self.backbone_weights is not None) and (
            self.builder not in BACKBONE_BUILDERS
        ):
            raise ValueError(
                f"`model.backbone` and `model.backbone_weights` apply to the builders "
                f"{sorted(BACKBONE_BUILDERS)}. Received: builder={self.builder!r}, "
                f"backbone={self.backbone!r}, backbone_weights={self.backbone_weights!r}"
            )
        if self.backbone is not None:
            arguments["backbone"] = self.backbone
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
            (times `decay_rate` at each epoch in `boundaries`), `"cosine"` (Keras'
            `CosineDecay` to 0 over the run after the warm-up) or `"constant"`.
        warmup_steps: linear warm-up over that many steps.
        warmup_start: the warm-up's first rate, a fraction of `learning_rate` (0: from 0;
            mmdetection's `warmup_ratio`, 1/3 in its HRNet detection configs).
        global_clipnorm: clip the gradient to this global L2 norm (over all variables, after
            the replicas' gradients are summed: PyTorch's `clip_grad_norm_`, mmdetection's
            `grad_clip=dict(max_norm=35)`), or None.
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
    warmup_start: float = 0.0
    global_clipnorm: float | None = None


@dataclasses.dataclass
class RuntimeConfig:
    """How training runs.

    Attributes:
        global_batch_size: summed over all replicas and workers.
        epochs: passes of `steps_per_epoch` steps.
        steps_per_epoch: None for one pass over the training split.
        checkpoint_every_steps: also checkpoint mid-epoch, for resumption after a kill.
        seed: seeds Python, NumPy, TensorFlow and the data pipeline.
        mixed_precision: train in `mixed_float16` on GPUs (float32 variables, the loss
            scaled by Keras). Ignored on CPUs, which train in float32: there both mixed
            policies are several times slower than float32 (`docs/training.md`, Memory).
        recompute: activation recomputation, `"none"`, `"stages"` or `"modules"` (see
            `hrnet_keras.models.recompute`): the same losses and gradients for less memory
            and more time per step; passed to the builder as `recompute=`.
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
    recompute: str = "none"
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
        """Plain data (JSON-ready but for tuples), with `task_type` naming the task config.

        `Recipe.from_dict` reverses it, also after a JSON round trip.
        """
        return {"task_type": type(self.task).__name__, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data):
        """The `Recipe` whose `to_dict()` is `data`, also after a JSON round trip.

        `data["task_type"]` names the task config (see `task_config_class`). Lists come back
        as tuples where the field holds a tuple (or anything), integer-like keys of dicts as
        ints, ints as floats in float fields; missing fields take their defaults, unknown
        ones raise.

        Example:
        >>> import json
        >>> from hrnet_keras.segmentation import SegmentationConfig
        >>> config = SegmentationConfig(crop_size=(64, 64), label_mapping={7: 0})
        >>> recipe = Recipe(config, ModelConfig(width="18-small-v2"))
        >>> Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe
        True
        """
        from hrnet_keras.training.task_configs import task_config_class

        data = dict(data)
        if "task_type" not in data or "task" not in data:
            raise ValueError(
                "A recipe dict has `task_type` and `task` (what `Recipe.to_dict` writes). "
                f"Received: keys={sorted(data)}"
            )
        task_class = task_config_class(data.pop("task_type"))
        task = _dataclass_from_dict(task_class, data.pop("task"), "task")
        hints = typing.get_type_hints(cls)
        sections = {}
        for name, values in data.items():
            if name == "task" or name not in hints:
                raise ValueError(f"Unknown recipe section {name!r}. Received: {name}={values!r}")
            sections[name] = _dataclass_from_dict(hints[name], values, name)
        return cls(task=task, **sections)


def _dataclass_from_dict(config_class, values, path):
    if not isinstance(values, dict):
        raise ValueError(f"`{path}` must be a dict of fields. Received: {path}={values!r}")
    hints = typing.get_type_hints(config_class)
    names = {f.name for f in dataclasses.fields(config_class) if f.init}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"Unknown recipe field {path}.{unknown[0]} of {config_class.__name__}. "
            f"Received: {path}.{unknown[0]}={values[unknown[0]]!r}"
        )
    return config_class(**{k: _from_plain(v, hints[k], f"{path}.{k}") for k, v in values.items()})


def _from_plain(value, annotation, path):
    """`value` (from JSON) as the field typed `annotation` holds it."""
    if value is None:
        return None
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = typing.get_args(annotation)
    else:
        kinds = (annotation,)
    kinds = tuple(typing.get_origin(kind) or kind for kind in kinds)
    for kind in kinds:
        if dataclasses.is_dataclass(kind) and isinstance(value, dict):
            return _dataclass_from_dict(kind, value, path)
    if isinstance(value, list):
        return list(value) if list in kinds else _tuples(value)
    if isinstance(value, dict):
        return {_key(k): _tuples(v) for k, v in value.items()}
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _tuples(value):
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {_key(k): _tuples(v) for k, v in value.items()}
    return value


def _key(key):
    # JSON writes the integer keys of label mappings as strings.
    if isinstance(key, str) and key.lstrip("-").isdigit() and str(int(key)) == key:
        return int(key)
    return key


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
        # A width may be an int or a name such as 18-small-v2, whichever the recipe had.
        and not (key.split(".")[-1] == "width" and isinstance(value, (int, str)))
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
