"""Choosing the strategy, splitting the batch, and the multi-worker shim outside a cluster."""

import keras
import pytest
import tensorflow as tf

from hrnet_keras.training.distribution import (
    create_strategy,
    is_chief,
    per_replica_batch_size,
)
from hrnet_keras.training.multi_worker import patch_for_multi_worker


def _one_cpu_machine():
    """No GPU and one logical CPU: the machine trains one replica under the default strategy."""
    gpus = tf.config.list_logical_devices("GPU")
    return not gpus and len(tf.config.list_logical_devices("CPU")) == 1


def test_mirrored_spans_the_local_devices(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    strategy = create_strategy("mirrored")
    assert isinstance(strategy, tf.distribute.MirroredStrategy)
    assert is_chief(strategy)
    if not _one_cpu_machine():
        assert isinstance(create_strategy("auto"), tf.distribute.MirroredStrategy)


def test_one_cpu_trains_under_the_default_strategy(monkeypatch):
    if not _one_cpu_machine():
        pytest.skip("needs a machine with one CPU device and no GPU")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    default = tf.distribute.get_strategy()
    assert create_strategy("auto") is default
    assert create_strategy("one_device") is default
    assert is_chief(default)


def test_bad_distribution_settings_are_named(monkeypatch):
    with pytest.raises(ValueError, match="Received: distribution='tpu'"):
        create_strategy("tpu")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        create_strategy("auto")


def test_the_global_batch_must_split_evenly():
    strategy = tf.distribute.get_strategy()
    assert per_replica_batch_size(6, strategy) == 6
    with pytest.raises(ValueError, match="Received: global_batch_size=-2"):
        per_replica_batch_size(-2, strategy)


def test_the_multi_worker_shim_leaves_other_strategies_alone():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    step = model.train_step
    patch_for_multi_worker(model, create_strategy("one_device"))
    assert model.train_step == step and "_maybe_symbolic_build" not in vars(model)
