"""tf.data pipelines: deterministic augmented training crops and whole evaluation images.

Every random choice of the training pipeline is a stateless op keyed by (seed, epoch, index)
(`hrnet_keras.data.random_keys`), so the same recipe sees the same crops on every run and
after a resume, whatever the parallelism.
"""

import numpy as np
import tensorflow as tf

from hrnet_keras.data.images import load_pair
from hrnet_keras.data.normalization import normalize
from hrnet_keras.data.random_keys import epoch_stream, example_key
from hrnet_keras.data.sharding import shard

AUTOTUNE = tf.data.AUTOTUNE


def flip_lut(flip_pairs):
    """A 256-entry table that swaps each pair of labels (identity elsewhere).

    Example:
    >>> [int(v) for v in flip_lut(((1, 2),))[:4]]
    [0, 2, 1, 3]
    """
    lut = np.arange(256, dtype=np.uint8)
    for left, right in flip_pairs:
        lut[left], lut[right] = right, left
    return lut


def flip_horizontally(image, label, flip_pairs=()):
    """Mirrors an (h, w, c) image and (h, w) label; swaps the left/right labels."""
    image = tf.reverse(image, axis=[1])
    label = tf.reverse(label, axis=[1])
    if flip_pairs:
        label = tf.gather(tf.constant(flip_lut(flip_pairs)), tf.cast(label, tf.int32))
    return image, label


def scaled_size(height, width, scale, base_size=None):
    """Size after scaling: the long side becomes `base_size * scale` when `base_size` is set."""
    height = tf.cast(height, tf.float32)
    width = tf.cast(width, tf.float32)
    if base_size is None:
        new_h, new_w = height * scale, width * scale
    else:
        long_side = tf.round(base_size * scale)
        ratio = long_side / tf.maximum(height, width)
        new_h, new_w = height * ratio, width * ratio
    return tf.cast(tf.round(new_h), tf.int32), tf.cast(tf.round(new_w), tf.int32)


def resize_pair(image, label, size):
    """Bilinear for the image (float32), nearest for the label."""
    image = tf.image.resize(tf.cast(image, tf.float32), size, method="bilinear")
    label = tf.image.resize(label[..., None], size, method="nearest")[..., 0]
    return image, label


def augment(image, label, key, config, flip_pairs=()):
    """Random scale, pad (ignore label) to the crop, random crop, random flip, normalise.

    Args:
        image / label: (h, w, 3) and (h, w) uint8.
        key: stateless seed, shape (2,).
        config: a `SegmentationConfig`.

    Returns:
        A normalised float32 crop and its uint8 label crop, both of `config.crop_size`.
    """
    scale_key, y_key, x_key, flip_key = tf.unstack(tf.random.experimental.stateless_split(key, 4))
    if config.train_resize is not None:
        image, label = resize_pair(image, label, config.train_resize)
    low, high = config.scale_range
    scale = tf.random.stateless_uniform([], scale_key, minval=low, maxval=high)
    shape = tf.shape(label)
    size = scaled_size(shape[0], shape[1], scale, config.base_size)
    image, label = resize_pair(image, label, size)

    crop_h, crop_w = config.crop_size
    pad_h = tf.maximum(crop_h - size[0], 0)
    pad_w = tf.maximum(crop_w - size[1], 0)
    image = tf.pad(image, [[0, pad_h], [0, pad_w], [0, 0]])
    label = tf.pad(label, [[0, pad_h], [0, pad_w]], constant_values=config.ignore_label)
    y = tf.random.stateless_uniform(
        [], y_key, minval=0, maxval=size[0] + pad_h - crop_h + 1, dtype=tf.int32
    )
    x = tf.random.stateless_uniform(
        [], x_key, minval=0, maxval=size[1] + pad_w - crop_w + 1, dtype=tf.int32
    )
    image = image[y : y + crop_h, x : x + crop_w]
    label = label[y : y + crop_h, x : x + crop_w]
    if config.flip:
        flipped = tf.random.stateless_uniform([], flip_key) < 0.5
        image, label = tf.cond(
            flipped,
            lambda: flip_horizontally(image, label, flip_pairs),
            lambda: (image, label),
        )
    image = normalize(image, config.mean, config.std)
    image.set_shape([crop_h, crop_w, 3])
    label.set_shape([crop_h, crop_w])
    return image, label


def training_dataset(files, config, *, batch_size, seed=0, input_context=None):
    """An endless, shuffled, augmented `(image, label)` dataset of `batch_size` crops.

    Each epoch is a permutation keyed by (seed, epoch); with `input_context` this pipeline
    keeps its share of every epoch's examples.
    """
    images = tf.constant(files.images)
    labels = tf.constant(files.labels)
    flip_pairs = config.flip_pairs if config.flip_pairs is not None else files.flip_pairs

    def load_and_augment(epoch, index):
        image, label = load_pair(images[index], labels[index], files.label_lut)
        return augment(image, label, example_key(seed, epoch, index), config, flip_pairs)

    dataset = shard(epoch_stream(len(files), seed), input_context)
    dataset = dataset.map(load_and_augment, num_parallel_calls=AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def evaluation_dataset(files, config, *, batch_size, input_context=None):
    """Whole images (resized as `eval_resize` / `base_size` say), once, in order.

    Images of a batch are padded to the largest (label padding is the ignore label); this
    is the quick streaming check `fit` reports, the paper's protocol is `SegmentationTask.evaluate`.
    """
    dataset = shard(tf.data.Dataset.from_tensor_slices((files.images, files.labels)), input_context)

    def prepare(image_path, label_path):
        image, label = load_pair(image_path, label_path, files.label_lut)
        if config.eval_resize is not None:
            image, label = resize_pair(image, label, config.eval_resize)
        elif config.base_size is not None:
            shape = tf.shape(label)
            size = scaled_size(shape[0], shape[1], 1.0, config.base_size)
            image, label = resize_pair(image, label, size)
        return normalize(image, config.mean, config.std), label

    dataset = dataset.map(prepare, num_parallel_calls=AUTOTUNE, deterministic=True)
    dataset = dataset.padded_batch(
        batch_size,
        padding_values=(0.0, tf.constant(config.ignore_label, tf.uint8)),
    )
    return dataset.prefetch(AUTOTUNE)
