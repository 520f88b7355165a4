"""The toy task's recipe: a tiny conv net (or `--set model.builder=hrnetv2`) on 32x32 images."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from training_toy_task import ToyConfig

from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig


def recipe():
    return Recipe(
        task=ToyConfig(),
        model=ModelConfig(builder="tiny", width=4, num_classes=3, bn_momentum=0.9),
        optimizer=OptimizerConfig(name="sgd", learning_rate=0.05, weight_decay=1e-4),
        runtime=RuntimeConfig(
            global_batch_size=4,
            epochs=2,
            steps_per_epoch=3,
            checkpoint_every_steps=2,
            distribution="one_device",
        ),
    )
