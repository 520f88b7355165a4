"""Task configs by name: what a `recipe.json`'s `task_type` means.

A run records its recipe as JSON with `task_type`, the class name of `recipe.task` (for
example `"SegmentationConfig"`). Loading it back needs that class: the library's own tasks
are the table in `builtin_task_configs`; a task defined elsewhere (a project of its own, a
test) registers its config with `register_task_config`.
"""

import dataclasses

_REGISTERED = {}


def builtin_task_configs():
    """`{task_type: config class}` of the tasks this library ships.

    Imported here, when a name is looked up, so that importing the training machinery does
    not import every task.
    """
    from hrnet_keras.classification.config import ClassificationConfig
    from hrnet_keras.detection.config import DetectionConfig
    from hrnet_keras.landmarks.config import LandmarkConfig
    from hrnet_keras.segmentation.config import SegmentationConfig

    configs = (SegmentationConfig, LandmarkConfig, DetectionConfig, ClassificationConfig)
    return {config.__name__: config for config in configs}


def register_task_config(config_class):
    """Class decorator: lets `Recipe.from_dict` rebuild `config_class` from its name.

    The class is a dataclass with `build_task(recipe)`. Registering another class of the
    same name and module (a module imported again) replaces it.

    Example:
    >>> import dataclasses
    >>> @register_task_config
    ... @dataclasses.dataclass
    ... class CountingConfig:
    ...     classes: int = 2
    ...     def build_task(self, recipe):
    ...         raise NotImplementedError
    >>> task_config_class("CountingConfig") is CountingConfig
    True
    """
    name = config_class.__name__
    if not dataclasses.is_dataclass(config_class) or not callable(
        getattr(config_class, "build_task", None)
    ):
        raise TypeError(
            "A task config is a dataclass with a `build_task(recipe)` method. "
            f"Received: config_class={name}"
        )
    known = {**builtin_task_configs(), **_REGISTERED}.get(name)
    if known is not None and known.__module__ != config_class.__module__:
        raise ValueError(
            f"Another task config is already named {name!r} (in {known.__module__}). "
            f"Received: config_class={config_class.__module__}.{name}"
        )
    _REGISTERED[name] = config_class
    return config_class


def task_configs():
    """`{task_type: config class}`: the library's tasks and the registered ones."""
    return {**builtin_task_configs(), **_REGISTERED}


def task_config_class(task_type):
    """The config dataclass a `recipe.json`'s `task_type` names.

    Example:
    >>> task_config_class("LandmarkConfig").__module__
    'hrnet_keras.landmarks.config'
    """
    configs = task_configs()
    if task_type not in configs:
        raise ValueError(
            f"Unknown task type {task_type!r}; known: {sorted(configs)} (a task defined "
            "outside the library registers its config with `register_task_config`). "
            f"Received: task_type={task_type!r}"
        )
    return configs[task_type]
