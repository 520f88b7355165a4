"""Trains a tiny landmark recipe on the WFLW sample faces, for the kill/resume test.

`python landmark_run.py DATA_DIR MODEL_DIR [KILL_AFTER_STEP]`: trains 3 epochs of 5 steps
with full augmentation and a checkpoint every 2 steps; with `KILL_AFTER_STEP` the process
SIGKILLs itself when that optimizer step ends (no clean-up, as a pre-empted machine).

The landmark pipeline, loss, trainer and checkpoints are the real ones; only the network is
a two-layer conv net with batch norm (HRNet's graph takes minutes to trace on a busy CPU,
and what is under test is that the data stream resumes where it stopped).
"""

import dataclasses
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

from hrnet_keras.landmarks import LandmarkConfig
from hrnet_keras.landmarks.task import LandmarkTask
from hrnet_keras.training import (
    ModelConfig,
    OptimizerConfig,
    Recipe,
    RuntimeConfig,
)
from hrnet_keras.training.trainer import train


class TinyLandmarkTask(LandmarkTask):
    def build_model(self):
        size = self.options.input_size
        images = keras.Input((size, size, 3))
        x = images
        for i in range(2):
            x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name=f"conv{i}")(x)
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn{i}")(x)
            x = keras.layers.ReLU()(x)
        heatmaps = keras.layers.Conv2D(self.config.num_landmarks, 1, name="heatmaps")(x)
        return keras.Model(images, heatmaps, name="tiny")


@dataclasses.dataclass
class TinyLandmarkConfig(LandmarkConfig):
    def build_task(self, recipe):
        return TinyLandmarkTask(recipe)


def recipe():
    return Recipe(
        task=TinyLandmarkConfig(
            dataset="wflw",
            train_annotations="face_landmarks_wflw_test.csv",
            eval_annotations={"train": "face_landmarks_wflw_test.csv"},
            input_size=64,
        ),
        model=ModelConfig(builder="hrnetv2", width=4, num_classes=98, bn_momentum=0.9),
        optimizer=OptimizerConfig(name="sgd", learning_rate=0.01, weight_decay=1e-4),
        runtime=RuntimeConfig(
            global_batch_size=2,
            epochs=3,
            steps_per_epoch=5,
            checkpoint_every_steps=2,
            distribution="one_device",
            sync_bn=False,
            seed=3,
        ),
    )


class KillAfter(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    data_dir, model_dir, *kill = sys.argv[1:]
    callbacks = [KillAfter(int(kill[0]))] if kill else []
    train(recipe(), data_dir, model_dir, callbacks=callbacks, verbose=2)
