"""The `tf.distribute` strategy a recipe trains under, and how the global batch splits."""

import json
import os

import tensorflow as tf

DISTRIBUTIONS = ("auto", "mirrored", "multi_worker", "one_device")


def _local_devices():
    """Every visible GPU, else every logical CPU (tests split one CPU into several), as
    `tf.config.LogicalDevice`s."""
    return tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")


def create_strategy(distribution="auto"):
    """Builds the strategy named by `RuntimeConfig.distribution`.

    Args:
        distribution: `"auto"` (MultiWorkerMirroredStrategy when the `TF_CONFIG` environment
            variable describes a cluster, else MirroredStrategy over the local devices),
            `"mirrored"` (every local GPU, or every logical CPU when there is no GPU),
            `"multi_worker"` (MultiWorkerMirroredStrategy; `TF_CONFIG` names the cluster) or
            `"one_device"` (the first GPU, else the CPU).

    On a machine without a GPU, `"one_device"`, and `"auto"` with a single CPU device, give
    the default strategy: under `OneDeviceStrategy` or a one-replica `MirroredStrategy`,
    Keras 3's `fit` runs the same graph about twice as slowly on CPU (every kernel slower,
    measured with TensorFlow 2.21 and Keras 3.15), and one CPU replica needs none of their
    machinery. `"mirrored"` always builds a `MirroredStrategy`.

    Returns:
        A `tf.distribute.Strategy`. A multi-worker one must be created before anything else
        initialises TensorFlow's runtime in the process (listing devices, running an op).

    Example:
    >>> from hrnet_keras.training.distribution import create_strategy
    >>> create_strategy("one_device").num_replicas_in_sync
    1
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"`runtime.distribution` must be one of {DISTRIBUTIONS}. "
            f"Received: distribution={distribution!r}"
        )
    if distribution == "auto" and _has_cluster():
        distribution = "multi_worker"
    if distribution == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    devices = _local_devices()
    single = distribution == "one_device" or (distribution == "auto" and len(devices) == 1)
    if single and devices[0].device_type == "CPU":
        return tf.distribute.get_strategy()
    if distribution == "one_device":
        return tf.distribute.OneDeviceStrategy(devices[0].name)
    return tf.distribute.MirroredStrategy([d.name for d in devices])


def _has_cluster():
    text = os.environ.get("TF_CONFIG")
    if not text:
        return False
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"TF_CONFIG is not valid JSON ({error}). Received: TF_CONFIG={text}"
        ) from error
    return bool(config.get("cluster"))


def per_replica_batch_size(global_batch_size, strategy):
    """The batch each replica sees: the global batch divided evenly over the replicas.

    Example:
    >>> import tensorflow as tf
    >>> from hrnet_keras.training.distribution import per_replica_batch_size
    >>> per_replica_batch_size(8, tf.distribute.get_strategy())
    8
    """
    replicas = strategy.num_replicas_in_sync
    if global_batch_size < 1 or global_batch_size % replicas:
        raise ValueError(
            f"`runtime.global_batch_size` must be a positive multiple of the {replicas} "
            f"replicas. Received: global_batch_size={global_batch_size}"
        )
    return global_batch_size // replicas


def is_chief(strategy):
    """Whether this process writes checkpoints, logs and exports (worker 0 of a cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (
        task_type == "worker" and task_id == 0 and "chief" not in resolver.cluster_spec().jobs
    )


def in_multi_worker_mode(strategy):
    """Whether `strategy` is a MultiWorkerMirroredStrategy spanning several workers."""
    return (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and strategy.extended._in_multi_worker_mode()
    )
