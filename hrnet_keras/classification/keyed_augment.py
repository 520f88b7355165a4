"""Keras' own augmentation layers (RandAugment, MixUp, CutMix) with keyed randomness.

Keras' random preprocessing layers draw their numbers from `layer.generator`, a
`SeedGenerator` whose state is a variable advanced on every call: in a parallel `tf.data`
map the order of those calls, and so the augmentation of an example, would depend on thread
timing, and a resumed run would not see the same batches. Here the layer draws from a
`KeyedSeedGenerator` instead while it runs, so that its randomness is a function of the
example's key `(seed, epoch, index)` alone (`hrnet_keras.data.example_key`), like the rest
of the pipeline.
"""

import contextlib

import keras
import tensorflow as tf


class KeyedSeedGenerator(keras.random.SeedGenerator):
    """A stateless `SeedGenerator`: its i-th seed is `stateless_fold_in(key, i)`.

    `i` counts calls while a function is traced, so one traced graph draws the same
    sequence of seeds from whichever key it is given.

    Args:
        key: a stateless seed `(2,)`, int32 or int64 (a tensor inside the pipeline).

    Example:
    >>> key = tf.constant([3, 4], tf.int64)
    >>> a, b = KeyedSeedGenerator(key), KeyedSeedGenerator(key)
    >>> [int(v) for v in a.next()] == [int(v) for v in b.next()]
    True
    """

    def __init__(self, key):
        # No `super().__init__()`: it creates the state variable this class exists to avoid
        # (and a `tf.data` function may not create variables).
        self.key = tf.cast(key, tf.int64)
        self.name = "keyed_seed_generator"
        self._count = 0

    def next(self, ordered=True):
        seed = tf.random.experimental.stateless_fold_in(self.key, self._count)
        self._count += 1
        return seed


@contextlib.contextmanager
def keyed_seeds(layer, key):
    """Makes a Keras preprocessing `layer` draw from `KeyedSeedGenerator(key)` while inside.

    The generator is swapped with `object.__setattr__`: Keras' attribute tracking would
    otherwise record the stateless generator as layer state.

    Example:
    >>> import numpy as np
    >>> layer = keras.layers.RandAugment(value_range=(0, 255))
    >>> image = np.random.default_rng(0).uniform(0, 255, (8, 8, 3)).astype("float32")
    >>> def run(key):
    ...     with keyed_seeds(layer, tf.constant(key, tf.int64)):
    ...         return layer(image, training=True).numpy()
    >>> bool(np.array_equal(run([1, 2]), run([1, 2])))
    True
    """
    saved = layer.generator
    object.__setattr__(layer, "generator", KeyedSeedGenerator(key))
    try:
        yield layer
    finally:
        object.__setattr__(layer, "generator", saved)


def randaugment(layer, image, key):
    """`layer` (a `keras.layers.RandAugment`) applied to one `(h, w, 3)` 0-255 image."""
    with keyed_seeds(layer, key):
        return layer(image, training=True)


def mix_batch(layers, images, labels, key):
    """MixUp or CutMix of a batch, as timm does: with both, each batch takes one of them
    (half the batches each).

    Args:
        layers: a `keras.layers.MixUp`, a `keras.layers.CutMix`, or both (a list).
        images: `(b, h, w, 3)` float32.
        labels: `(b, classes)` float32 (one-hot or smoothed).
        key: the batch's stateless seed.

    Returns:
        The mixed `(images, labels)`.
    """
    choice_key, layer_key = tf.unstack(tf.random.experimental.stateless_split(key, 2))

    def apply(layer):
        def run():
            with keyed_seeds(layer, layer_key):
                mixed = layer({"images": images, "labels": labels}, training=True)
            return mixed["images"], tf.cast(mixed["labels"], labels.dtype)

        return run

    if len(layers) == 1:
        return apply(layers[0])()
    first = tf.random.stateless_uniform([], choice_key) < 0.5
    return tf.cond(first, apply(layers[0]), apply(layers[1]))
