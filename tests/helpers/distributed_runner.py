"""Runs the toy recipe in a fresh process, for the tests that need one.

`python distributed_runner.py devices OUT.json`: splits the CPU into two logical devices
(only possible before TensorFlow initialises), trains once on one device and once mirrored
over both at the same global batch with synchronised batch norm, and writes both loss curves
and the largest weight difference.

`python distributed_runner.py worker OUT.npz MODEL_DIR [unpatched]`: trains under the cluster
that the `TF_CONFIG` environment variable describes and saves this worker's final weights;
`unpatched` leaves out the multi-worker shim.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from hrnet_keras.training import load_recipe, train  # noqa: E402

RECIPE = os.path.join(HERE, "toy_recipe.py")


class LossCurve(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def devices(out):
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    recipe = load_recipe(RECIPE, ["runtime.global_batch_size=8", "runtime.sync_bn=true"])
    result = {}
    weights = []
    for name, strategy in [
        ("one_device", tf.distribute.OneDeviceStrategy("/cpu:0")),
        ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])),
    ]:
        curve = LossCurve()
        run = train(
            recipe,
            "unused",
            os.path.join(os.path.dirname(out), name),
            strategy=strategy,
            callbacks=[curve],
            verbose=0,
        )
        result[name] = curve.losses
        result[f"{name}_replicas"] = strategy.num_replicas_in_sync
        weights.append(run.model.get_weights())
    result["max_weight_difference"] = max(float(np.max(np.abs(a - b))) for a, b in zip(*weights))
    with open(out, "w") as f:
        json.dump(result, f)


def worker(out, model_dir, shim="patched"):
    if shim == "unpatched":  # to show that Keras alone still fails
        import hrnet_keras.training.trainer as trainer

        trainer.patch_for_multi_worker = lambda model, strategy: model
    recipe = load_recipe(RECIPE, ["runtime.distribution=auto", "runtime.sync_bn=true"])
    curve = LossCurve()
    run = train(recipe, "unused", model_dir, callbacks=[curve], verbose=0)
    np.savez(out, *run.model.get_weights(), losses=np.array(curve.losses))


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    {"devices": devices, "worker": worker}[mode](*rest)
