"""Per-example randomness keyed by (seed, epoch, index), so a resumed run equals an unbroken one.

A training stream is the endless sequence of `(epoch, index)` pairs of `epoch_stream`: each
epoch a permutation of the examples keyed by (seed, epoch). Augmentation draws its random
numbers with stateless ops from `example_key(seed, epoch, index)`. What a step sees is then
a function of the seed and the step alone, whatever the parallelism, the sharding or the
batches skipped on resumption.
"""

import tensorflow as tf


def example_key(seed, epoch, index):
    """The stateless random seed `(2,)` of one example in one epoch.

    Example:
    >>> key = example_key(0, 1, 5).numpy().tolist()
    >>> key == example_key(0, 1, 5).numpy().tolist(), key == example_key(0, 2, 5).numpy().tolist()
    (True, False)
    """
    # fold_in hashes its argument's bytes: cast so that Python ints give the stream's keys.
    epoch, index = tf.cast(epoch, tf.int64), tf.cast(index, tf.int64)
    key = tf.random.experimental.stateless_fold_in(tf.constant([seed, 0], tf.int64), epoch)
    return tf.random.experimental.stateless_fold_in(key, index)


def epoch_order(seed, epoch, count):
    """The permutation of `range(count)` (int64) that epoch `epoch` visits."""
    epoch = tf.cast(epoch, tf.int64)
    epoch_seed = tf.random.experimental.stateless_fold_in(tf.constant([seed, 1], tf.int64), epoch)
    return tf.random.experimental.stateless_shuffle(
        tf.range(count, dtype=tf.int64), seed=epoch_seed
    )


def epoch_stream(count, seed):
    """An endless `tf.data.Dataset` of `(epoch, index)`: epoch 0's permutation, epoch 1's, ...

    Args:
        count: examples per epoch.
        seed: the run's seed.

    Returns:
        A dataset of int64 scalar pairs.

    Example:
    >>> pairs = [(int(e), int(i)) for e, i in epoch_stream(3, seed=0).take(6)]
    >>> [e for e, _ in pairs], sorted(i for _, i in pairs[:3]), sorted(i for _, i in pairs[3:])
    ([0, 0, 0, 1, 1, 1], [0, 1, 2], [0, 1, 2])
    """
    if count < 1:
        raise ValueError(f"An epoch needs at least one example. Received: count={count}")

    def one_epoch(epoch):
        order = epoch_order(seed, epoch, count)
        return tf.data.Dataset.from_tensor_slices(order).map(lambda i: (epoch, i))

    return tf.data.Dataset.counter().flat_map(one_epoch)
