"""Training machinery shared by every task: recipes, the Task interface and the trainer."""

from hrnet_keras.training.recipe import (
    ModelConfig,
    OptimizerConfig,
    Recipe,
    RuntimeConfig,
    apply_overrides,
    load_recipe,
)
from hrnet_keras.training.task import Task
from hrnet_keras.training.trainer import TrainingRun, evaluate, predict, train

__all__ = [
    "ModelConfig",
    "OptimizerConfig",
    "Recipe",
    "RuntimeConfig",
    "Task",
    "TrainingRun",
    "apply_overrides",
    "evaluate",
    "load_recipe",
    "predict",
    "train",
]
