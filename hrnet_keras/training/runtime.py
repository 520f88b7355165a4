"""Process-wide settings of a training run: seeds, op determinism and mixed precision."""

import contextlib

import keras
import tensorflow as tf
from tensorflow.python.framework import config as tf_config


def precision_policy(mixed_precision, gpu=None):
    """The Keras dtype policy: `mixed_float16` when mixed precision is asked for on a GPU,
    float32 otherwise.

    CPUs train in float32 whatever `mixed_precision` says: there `mixed_bfloat16` and
    `mixed_float16` steps are several times slower than float32 ones (see the training
    docs). `gpu` (default: whether TensorFlow sees one) lets a CPU-only test build the
    GPU's policy.

    Example:
    >>> from hrnet_keras.training.runtime import precision_policy
    >>> precision_policy(False), precision_policy(True, gpu=False), precision_policy(True, gpu=True)
    ('float32', 'float32', 'mixed_float16')
    """
    if gpu is None:
        gpu = bool(tf.config.list_logical_devices("GPU"))
    return "mixed_float16" if mixed_precision and gpu else "float32"


@contextlib.contextmanager
def training_runtime(runtime):
    """Seeds everything from `runtime.seed`, sets the dtype policy; restores both on exit.

    Op determinism (`tf.config.experimental.enable_op_determinism`) is enabled on machines
    without a GPU, where every op the models use has a deterministic kernel; on GPUs some
    gradients (bilinear resize) have none and would raise, so GPU runs are seeded but not
    bit-exact. Determinism is switched back off on exit if it was off before.

    Example:
    >>> from hrnet_keras.training import RuntimeConfig
    >>> from hrnet_keras.training.runtime import training_runtime
    >>> with training_runtime(RuntimeConfig(mixed_precision=True)):
    ...     keras.config.dtype_policy().name  # on a machine without a GPU
    'float32'
    >>> keras.config.dtype_policy().name
    'float32'
    """
    previous_policy = keras.config.dtype_policy()
    was_deterministic = tf_config.is_op_determinism_enabled()
    keras.utils.set_random_seed(runtime.seed)
    if not tf.config.list_logical_devices("GPU"):
        tf.config.experimental.enable_op_determinism()
    keras.config.set_dtype_policy(precision_policy(runtime.mixed_precision))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous_policy)
        if not was_deterministic:
            tf_config.disable_op_determinism()
