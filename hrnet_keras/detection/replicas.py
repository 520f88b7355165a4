"""Detection losses under a distribution strategy: the same gradients as one device.

Keras sums the replicas' gradients, so a model that owns its loss divides it by the replica
count (`scale_for_replicas`), as Keras does for compiled losses. A loss whose normaliser
depends on the data (the mask loss' count of positive RoIs, the sampled RoIs of a cascade
stage) also needs that count over the whole global batch (`mean_divisor`): the mean of
per-replica means is not the mean. mmdetection takes each GPU's own mean; these take the
global batch's, so that any number of replicas trains as one device.
"""

import keras


def _replica_context():
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync < 2:
        return None
    return context


def scale_for_replicas(loss):
    """Each replica's loss over the replica count, as Keras scales compiled losses.

    Example:
    >>> float(scale_for_replicas(2.0))  # one device: unchanged
    2.0
    """
    context = _replica_context()
    return loss if context is None else loss / context.num_replicas_in_sync


def sum_over_replicas(value):
    """`value` summed over the replicas in sync; `value` itself on one device.

    In a replica context of a multi-replica strategy this is an all-reduce, so every replica
    must call it (the losses do, on every step).

    Example:
    >>> float(sum_over_replicas(3.0))
    3.0
    """
    context = _replica_context()
    if context is None:
        return value
    import tensorflow as tf

    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def replica_count():
    """The replicas in sync: the factor that turns a global mean into a per-replica share."""
    context = _replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def mean_divisor(count):
    """What a replica divides its loss sum by so that the replicas' losses add up to the
    mean over the global batch: the global `count` (at least 1) over the replica count.

    On one device it is `max(count, 1)`. The RPN's, box head's and mask head's losses are
    means over sampled anchors, RoIs or mask pixels whose number can differ between images
    (fewer candidates than samples, positives that depend on the data).

    Example:
    >>> float(mean_divisor(0.0)), float(mean_divisor(512.0))
    (1.0, 512.0)
    """
    from keras import ops

    return ops.maximum(sum_over_replicas(count), 1.0) / replica_count()
