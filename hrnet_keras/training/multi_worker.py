"""A shim that lets Keras 3's `model.fit` / `evaluate` run under MultiWorkerMirroredStrategy.

Keras 3 (checked up to 3.15) fails on the first step of `fit` when a MultiWorkerMirroredStrategy
spans several workers, in two places of its TensorFlow trainer:

1. Before training, `fit` / `evaluate` take one distributed batch to build the metrics and
   reduce it with `strategy.reduce("MEAN", batch, axis=None)` in eager mode; the collective
   strategy cannot convert the per-replica batch to a tensor ("Attempt to convert a value
   (PerReplica:...) ... to a Tensor").
2. After each step, the per-replica logs (scalars) are reduced with
   `strategy.reduce("MEAN", value, axis=0)`, which fails on rank-0 values ("Invalid reduction
   dimension 0 for input with 0 dimensions").

`patch_for_multi_worker` fixes both on one model instance, without touching Keras: (1) the
symbolic build uses the first local replica's batch (only its shapes matter), and (2) the
train / test steps return their logs with shape `(1,)`, so that the reduction over axis 0
averages the replicas' values into a scalar. Outside multi-worker mode it does nothing.
"""

import tensorflow as tf
from keras import tree

from hrnet_keras.training.distribution import in_multi_worker_mode


def _first_local_value(value, strategy):
    if isinstance(value, tf.distribute.DistributedValues):
        return strategy.experimental_local_results(value)[0]
    return value


def _with_rank1_logs(step):
    def wrapped(data):
        logs = step(data)
        return tree.map_structure(lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, logs)

    return wrapped


def patch_for_multi_worker(model, strategy):
    """Makes `model.fit` and `model.evaluate` work under a multi-worker strategy; returns it.

    Call it inside `strategy.scope()`, after building and before `compile`.

    Example:
    >>> import keras, tensorflow as tf
    >>> from hrnet_keras.training.multi_worker import patch_for_multi_worker
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> patch_for_multi_worker(model, tf.distribute.get_strategy()) is model  # no-op here
    True
    """
    if not in_multi_worker_mode(strategy):
        return model

    def maybe_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                batch = next(batches)
                data_batch = tree.map_structure(lambda v: _first_local_value(v, strategy), batch)
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    # Instance attributes shadow the methods that Keras' `_make_function` and `fit` look up.
    model._maybe_symbolic_build = maybe_symbolic_build
    model.train_step = _with_rank1_logs(model.train_step)
    model.test_step = _with_rank1_logs(model.test_step)
    return model
