"""Training machinery shared by every task: recipes, the Task interface and the trainer."""

from hrnet_keras.training.recipe import (
    ModelConfig,
    OptimizerConfig,
    Recipe,
    RuntimeConfig,
    apply_overrides,
    load_recipe,
)
from hrnet_keras.training.run_folder import load_run_recipe, run_data_dir, run_weights
from hrnet_keras.training.task import Task, TaskCapabilityError
from hrnet_keras.training.task_configs import register_task_config, task_config_class
from hrnet_keras.training.trainer import TrainingRun, evaluate, predict, train

__all__ = [
    "ModelConfig",
    "OptimizerConfig",
    "Recipe",
    "RuntimeConfig",
    "Task",
    "TaskCapabilityError",
    "TrainingRun",
    "apply_overrides",
    "evaluate",
    "load_recipe",
    "load_run_recipe",
    "predict",
    "register_task_config",
    "run_data_dir",
    "run_weights",
    "task_config_class",
    "train",
]
