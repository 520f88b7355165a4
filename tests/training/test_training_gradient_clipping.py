"""`OptimizerConfig.global_clipnorm`: the global norm of the gradient the update uses, with
one replica and with two (summed first, as PyTorch's DistributedDataParallel + clip)."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from hrnet_keras.training import OptimizerConfig
from hrnet_keras.training.optimizers import build_optimizer

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Two logical CPUs (set before TensorFlow starts), a linear model, one SGD step of a batch of
# four: two rows a replica, the first pair with a far larger gradient than the second.
CHILD = textwrap.dedent(
    """
    import json, sys
    import keras, numpy as np, tensorflow as tf
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from hrnet_keras.training import OptimizerConfig
    from hrnet_keras.training.optimizers import build_optimizer

    x = np.array([[10.0, 0.0], [8.0, 0.0], [0.0, 1.0], [0.0, 0.5]], "float32")
    y = np.zeros((4, 1), "float32")

    def step(strategy, optimizer_fn):
        with strategy.scope():
            model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
            model.layers[0].kernel.assign([[1.0], [1.0]])
            model.compile(optimizer=optimizer_fn(), loss="mse")
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        return model.layers[0].kernel.numpy().ravel().tolist()

    config = OptimizerConfig(name="sgd", learning_rate=1.0, momentum=0.0, weight_decay=0.0,
                             schedule="constant", global_clipnorm=1.0)
    ours = lambda: build_optimizer(config, total_steps=1, steps_per_epoch=1)
    keras_own = lambda: keras.optimizers.SGD(1.0, global_clipnorm=1.0)
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    print(json.dumps({
        "one": step(tf.distribute.OneDeviceStrategy("/cpu:0"), ours),
        "two": step(mirrored, ours),
        "keras_two": step(mirrored, keras_own),
        "replicas": mirrored.num_replicas_in_sync,
    }))
    """
)


def _expected(clip=1.0):
    x = np.array([[10.0, 0.0], [8.0, 0.0], [0.0, 1.0], [0.0, 0.5]])
    w = np.ones(2)
    gradient = 2 * x.T @ (x @ w) / len(x)  # of the mean squared error over the batch
    gradient *= min(1.0, clip / np.linalg.norm(gradient))
    return w - gradient


def test_one_replica_clips_the_global_norm():
    config = OptimizerConfig(
        name="sgd",
        learning_rate=1.0,
        momentum=0.0,
        weight_decay=0.0,
        schedule="constant",
        global_clipnorm=1.0,
    )
    optimizer = build_optimizer(config, total_steps=1, steps_per_epoch=1)
    variable = keras.Variable(np.ones(2, "float32"))
    optimizer.apply([keras.ops.convert_to_tensor(np.array([3.0, 4.0], "float32"))], [variable])
    np.testing.assert_allclose(variable.numpy(), [1 - 0.6, 1 - 0.8], rtol=1e-6)
    with pytest.raises(ValueError, match="Received: global_clipnorm=0"):
        build_optimizer(OptimizerConfig(global_clipnorm=0), total_steps=1, steps_per_epoch=1)


@pytest.mark.slow
def test_two_replicas_clip_their_summed_gradient():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    env.pop("TF_CONFIG", None)
    process = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300
    )
    assert process.returncode == 0, process.stderr[-3000:]
    result = json.loads(process.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    np.testing.assert_allclose(result["one"], _expected(), atol=1e-5)
    np.testing.assert_allclose(result["two"], _expected(), atol=1e-5)
    # Keras' own option clips each replica's share before the sum: another step.
    assert np.abs(np.array(result["keras_two"]) - _expected()).max() > 0.1
