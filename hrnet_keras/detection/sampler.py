"""Random sampling of positives and negatives with static shapes (mmdet's RandomSampler)."""

import keras
from keras import ops

from hrnet_keras.detection.assigner import NEGATIVE, POSITIVE


def top_k_padded(values, k):
    """`ops.top_k` over the last axis that also works with fewer than `k` entries.

    Missing entries come back with value `-inf` and index 0.

    Args:
        values: `(B, N)` float scores.
        k: the number of entries to return (a Python int).

    Returns:
        `(top_values, top_indices)`, `(B, k)` each, sorted by descending value.
    """
    values = ops.cast(values, "float32")
    padding = ops.full((ops.shape(values)[0], k), float("-inf"), dtype="float32")
    top_values, top_indices = ops.top_k(ops.concatenate([values, padding], axis=-1), k)
    top_indices = ops.where(top_values > float("-inf"), top_indices, 0)
    return top_values, ops.cast(top_indices, "int32")


class ExampleKeys:
    """Per-example random keys for `random_sample`: each row drawn from its own example's key.

    A draw from a `keras.random.SeedGenerator` depends on the batch it is made for: the
    numbers of image `b` change with the batch size and with the replica that holds it, and
    the generator's state is not in saved weights. With a stateless key per example (the
    training pipeline's `"sample_key"` target) an image samples the same anchors and RoIs in
    any batch, on one device or several, and again after a resumption.

    Args:
        keys: `(B, 2)` int stateless seeds, one per example.
        salt: an int folded into every key, so that each sampler of a detector (the RPN's
            anchors, the RoIs of a box head) draws its own numbers.

    Example:
    >>> import numpy as np
    >>> keys = np.array([[1, 2], [3, 4]], "int32")
    >>> both = ExampleKeys(keys, salt=0).uniform(5)
    >>> alone = ExampleKeys(keys[1:], salt=0).uniform(5)
    >>> tuple(both.shape), bool(np.all(np.asarray(both)[1] == np.asarray(alone)[0]))
    ((2, 5), True)
    """

    def __init__(self, keys, salt=0):
        self.keys = keys
        self.salt = int(salt)

    def uniform(self, size):
        """`(B, size)` float32 uniform in [0, 1); row `b` depends on `keys[b]` and the salt."""
        # keras.random takes no per-row seeds; TensorFlow's stateless ops do (int32 for XLA).
        import tensorflow as tf

        keys = tf.cast(self.keys, tf.int32)
        salt = tf.constant(self.salt, tf.int32)

        def row(key):
            key = tf.random.experimental.stateless_fold_in(key, salt)
            return tf.random.stateless_uniform(tf.reshape(size, [1]), seed=key)

        return tf.map_fn(row, keys, fn_output_signature=tf.float32)


def random_sample(labels, num_samples, positive_fraction, seed=None, *, ids=None, num_ids=None):
    """Draws `num_samples` candidates per image: positives first, negatives fill the rest.

    Up to `int(num_samples * positive_fraction)` positives are drawn at random; the negatives
    then fill the remaining rows (more of them when positives are few), as mmdetection's
    `RandomSampler` with `neg_pos_ub=-1`. Rows left over when there are not enough
    candidates are padding.

    Args:
        labels: `(B, N)` int, 1 positive, 0 negative, -1 ignored (from `max_iou_assign`).
        num_samples: rows per image.
        positive_fraction: the largest share of positives.
        seed: a `keras.random.SeedGenerator` (or int) that makes the draw reproducible, or
            an `ExampleKeys` that draws each row from its own example's key.
        ids: optional `(B, N)` int identities of the candidates in `[0, num_ids)`, distinct
            among an image's valid candidates. Each candidate's random number is then the
            one drawn for its identity instead of its column: the same candidates in another
            order are sampled alike (with `ExampleKeys`, the same RoIs, in the same rows).
        num_ids: the number of identities, with `ids`.

    Returns:
        A dict of `(B, num_samples)` tensors: `"indices"` int32 into N (0 on padding rows),
        `"positive"` bool and `"valid"` bool (False on padding rows).

    Example:
    >>> import keras, numpy as np
    >>> labels = np.array([[1, 1, 1, 0, 0, 0, 0, -1]])
    >>> out = random_sample(labels, 4, 0.5, seed=keras.random.SeedGenerator(0))
    >>> np.asarray(out["positive"]).tolist(), np.asarray(out["valid"]).tolist()
    ([[True, True, False, False]], [[True, True, True, True]])
    """
    if not 0.0 <= positive_fraction <= 1.0:
        raise ValueError(
            "`positive_fraction` must be in [0, 1]. "
            f"Received: positive_fraction={positive_fraction}"
        )
    if (ids is None) != (num_ids is None):
        raise ValueError(
            "`ids` and `num_ids` come together. "
            f"Received: ids={'None' if ids is None else 'a tensor'}, num_ids={num_ids!r}"
        )
    labels = ops.convert_to_tensor(labels, "int32")
    num_positive = int(num_samples * positive_fraction)
    size = ops.shape(labels)[1] if ids is None else num_ids
    if isinstance(seed, ExampleKeys):
        keys = seed.uniform(size)
    else:
        keys = keras.random.uniform((ops.shape(labels)[0], size), seed=seed)
    if ids is not None:
        keys = ops.take_along_axis(keys, ops.cast(ids, "int32"), axis=1)
    neg_inf = float("-inf")
    positive = labels == POSITIVE
    negative = labels == NEGATIVE

    pos_values, pos_indices = top_k_padded(ops.where(positive, keys, neg_inf), max(num_positive, 1))
    neg_values, neg_indices = top_k_padded(ops.where(negative, keys, neg_inf), num_samples)
    taken_pos = ops.minimum(
        ops.sum(ops.cast(pos_values > neg_inf, "int32"), axis=-1, keepdims=True), num_positive
    )
    taken_neg = ops.minimum(
        ops.sum(ops.cast(neg_values > neg_inf, "int32"), axis=-1, keepdims=True),
        num_samples - taken_pos,
    )
    rows = ops.arange(num_samples, dtype="int32")[None, :]
    is_pos = rows < taken_pos
    pos_slot = ops.minimum(rows, max(num_positive, 1) - 1)
    neg_slot = ops.maximum(rows - taken_pos, 0)
    indices = ops.where(
        is_pos,
        ops.take_along_axis(pos_indices, ops.broadcast_to(pos_slot, ops.shape(is_pos)), axis=1),
        ops.take_along_axis(neg_indices, neg_slot, axis=1),
    )
    valid = rows < taken_pos + taken_neg
    return {
        "indices": ops.where(valid, indices, 0),
        "positive": ops.logical_and(is_pos, valid),
        "valid": valid,
    }
