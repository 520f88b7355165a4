"""Trains a small Faster R-CNN on the COCO photos of people, in a fresh process, for the tests.

`python detection_run.py devices DATA_DIR OUT.json [BUILDER]`: splits the CPU into two logical
devices (only possible before TensorFlow initialises), trains 2 steps once on one device and
once mirrored over both at the same global batch (2) with synchronised batch norm, and writes
both runs' per-step losses and the largest weight difference. `BUILDER` is `faster_rcnn`
(the default), `mask_rcnn` (the tiny Mask R-CNN recipe, a 16-channel mask head) or
`cascade_rcnn` (the tiny recipe's detector as a Cascade R-CNN).

`python detection_run.py train DATA_DIR MODEL_DIR [KILL_AFTER_STEP]`: trains 2 epochs of 3
steps with a checkpoint every 2 steps; with `KILL_AFTER_STEP` the process SIGKILLs itself
when that optimizer step ends (no clean-up, as a pre-empted machine).

Both run the real detection recipe, task, pipeline, detector (HRNetV2p-W18-small-v1), trainer
and checkpoints, at a 128 x 192 canvas with narrow heads; SGD with momentum, whose update is
linear in the gradient (Adam's would magnify the rounding of near-zero gradients).
"""

import json
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from hrnet_keras.training import load_recipe
from hrnet_keras.training.trainer import train

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(ROOT, "recipes", "coco_samples_tiny_faster_rcnn.py")
SMALL = [
    "task.min_size=128",
    "task.max_size=192",
    "task.pad_shape=(128, 192)",
    "task.channels=16",
    "task.rpn_channels=16",
    "task.fc_channels=32",
    "task.train_pre_nms_top_k=200",
    "task.max_proposals=64",
    "task.rpn_num_samples=64",
    "task.rcnn_num_samples=32",
    # Flips keyed per example too: half the images are mirrored.
    "task.flip=0.5",
    "optimizer.name=sgd",
    "optimizer.learning_rate=0.01",
    "optimizer.momentum=0.9",
    "optimizer.weight_decay=1e-4",
    "optimizer.schedule=constant",
    "optimizer.warmup_steps=0",
    "optimizer.global_clipnorm=35.0",
    "runtime.global_batch_size=2",
    "runtime.epochs=2",
    "runtime.steps_per_epoch=3",
    "runtime.checkpoint_every_steps=2",
    "runtime.seed=3",
]
# The detectors `devices` trains: a recipe and what it changes on top of `SMALL`.
BUILDERS = {
    "faster_rcnn": (RECIPE, []),
    "mask_rcnn": (
        os.path.join(ROOT, "recipes", "coco_samples_tiny_mask_rcnn.py"),
        ["task.mask_channels=16", "task.mask_grid=16"],
    ),
    "cascade_rcnn": (RECIPE, ["model.builder=cascade_rcnn"]),
}


class StepLosses(keras.callbacks.Callback):
    """Each step's losses as `fit` logs them (running means over the epoch)."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        names = ("loss", *self.model.loss_names)
        self.losses.append([float(logs[name]) for name in names])


class KillAfter(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def devices(data_dir, out, builder="faster_rcnn"):
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    steps = ["runtime.epochs=1", "runtime.steps_per_epoch=2"]
    path, extra = BUILDERS[builder]
    recipe = load_recipe(path, [*SMALL, *extra, *steps, "runtime.sync_bn=true"])
    result = {"builder": recipe.model.builder}
    weights = []
    for name, strategy in [
        ("one_device", tf.distribute.OneDeviceStrategy("/cpu:0")),
        ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])),
    ]:
        curve = StepLosses()
        run = train(
            recipe,
            data_dir,
            os.path.join(os.path.dirname(out), name),
            strategy=strategy,
            callbacks=[curve],
            verbose=0,
        )
        result[name] = curve.losses
        result[f"{name}_replicas"] = strategy.num_replicas_in_sync
        weights.append(run.model.get_weights())
    differences = [float(np.max(np.abs(a - b))) for a, b in zip(*weights)]
    scales = [float(np.max(np.abs(a))) for a in weights[0]]
    result["max_weight_difference"] = max(differences)
    result["max_relative_weight_difference"] = max(
        d / s for d, s in zip(differences, scales) if s > 0
    )
    result["num_weights"] = len(differences)
    with open(out, "w") as f:
        json.dump(result, f)


def run(data_dir, model_dir, *kill):
    recipe = load_recipe(
        RECIPE, [*SMALL, "runtime.distribution=one_device", "runtime.sync_bn=false"]
    )
    callbacks = [KillAfter(int(kill[0]))] if kill else []
    train(recipe, data_dir, model_dir, callbacks=callbacks, verbose=2)


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    {"devices": devices, "train": run}[mode](*rest)
