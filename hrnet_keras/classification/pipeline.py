"""tf.data pipelines of classification: augmented training crops and evaluation crops.

Training: a random resized crop (PIL's resampling, `preprocessing.random_resized_crop`), a
random flip, optionally Keras' `RandAugment`, normalisation; batches optionally mixed by
Keras' `MixUp` / `CutMix`. Every random number is drawn from the example's key
`(seed, epoch, index)` (`hrnet_keras.data.example_key`) or, for mixing, from the key of the
batch's first example, so the same recipe sees the same batches on every run and after a
resume. Evaluation: shorter side to `crop_size / eval_crop_pct`, centre crop, normalisation.

Labels come as one-hot float32 rows (the loss smooths them; mixing blends them).
"""

import keras
import tensorflow as tf

from hrnet_keras.classification.keyed_augment import mix_batch, randaugment
from hrnet_keras.classification.preprocessing import evaluation_crop, random_resized_crop
from hrnet_keras.classification.readers.files import ClassificationRecords
from hrnet_keras.classification.readers.tfrecord import parse_example
from hrnet_keras.data.images import load_image
from hrnet_keras.data.normalization import normalize
from hrnet_keras.data.random_keys import epoch_order, epoch_stream, example_key
from hrnet_keras.data.sharding import shard

AUTOTUNE = tf.data.AUTOTUNE
# Records between which a TFRecord epoch is shuffled (after its shards are).
SHUFFLE_BUFFER = 8192
_MIX_STREAM = 1  # folded into a batch's key so that mixing draws its own numbers


def _checked(label, num_classes):
    label = tf.cast(label, tf.int64)
    tf.debugging.assert_non_negative(label, "A class index is negative (check label_offset).")
    tf.debugging.assert_less(
        label, tf.constant(num_classes, tf.int64), "A class index is >= the number of classes."
    )
    return label


def _file_examples(files):
    """`(path, contents, label)` of a `ClassificationFiles`, contents empty (read the path)."""
    return (
        tf.constant(files.images),
        tf.constant(files.labels),
    )


def _named_records(shards, cycle_length=1):
    """`(shard path, serialized record)` of `shards` (errors name the shard): in turn, or
    interleaved from `cycle_length` shards at a time (in a fixed order)."""
    parallel = {} if cycle_length == 1 else {"num_parallel_calls": AUTOTUNE, "deterministic": True}
    return tf.data.Dataset.from_tensor_slices(shards).interleave(
        lambda shard: tf.data.TFRecordDataset(shard).map(lambda record: (shard, record)),
        cycle_length=cycle_length,
        **parallel,
    )


def _training_stream(source, seed):
    """An endless dataset of `(epoch, index, path, contents, label)`."""
    if isinstance(source, ClassificationRecords):
        shards = tf.constant(source.shards)

        def one_epoch(epoch):
            order = epoch_order(seed, epoch, len(source.shards))
            records = _named_records(tf.gather(shards, order), min(len(source.shards), 16))
            records = records.shuffle(SHUFFLE_BUFFER, seed=seed * 1_000_003 + epoch)
            return records.enumerate().map(
                lambda index, named: (
                    epoch,
                    index,
                    named[0],
                    *parse_example(named[1], source.label_offset),
                )
            )

        return tf.data.Dataset.counter().flat_map(one_epoch)
    paths, labels = _file_examples(source)
    return epoch_stream(len(source), seed).map(
        lambda epoch, index: (epoch, index, paths[index], tf.constant(b""), labels[index])
    )


def _evaluation_stream(source):
    """`(path, contents, label)` of every example once, in order."""
    if isinstance(source, ClassificationRecords):
        return _named_records(tf.constant(source.shards)).map(
            lambda shard, record: (shard, *parse_example(record, source.label_offset))
        )
    paths, labels = _file_examples(source)
    return tf.data.Dataset.from_tensor_slices((paths, labels)).map(
        lambda path, label: (path, tf.constant(b""), label)
    )


def augmentation_layers(config):
    """`(randaugment, mixers)`: Keras' `RandAugment` (or None) and the list of `MixUp` /
    `CutMix` layers the config turns on."""
    rand = None
    if config.randaugment_ops:
        rand = keras.layers.RandAugment(
            value_range=(0, 255),
            num_ops=config.randaugment_ops,
            factor=config.randaugment_factor,
            interpolation=config.interpolation,
        )
    mixers = []
    if config.mixup_alpha > 0:
        mixers.append(keras.layers.MixUp(alpha=config.mixup_alpha))
    if config.cutmix_alpha > 0:
        mixers.append(keras.layers.CutMix(factor=(config.cutmix_alpha, config.cutmix_alpha)))
    return rand, mixers


def augment(image, key, config, rand=None):
    """The training crop of one uint8 image: random resized crop, flip, RandAugment.

    Returns:
        float32 `(crop_size, crop_size, 3)` in 0-255 (not normalised).
    """
    crop_key, flip_key, rand_key = tf.unstack(tf.random.experimental.stateless_split(key, 3))
    image = random_resized_crop(
        image,
        crop_key,
        config.crop_size,
        tuple(config.scale_range),
        tuple(config.ratio_range),
        config.interpolation,
    )
    if config.flip:
        flipped = tf.random.stateless_uniform([], flip_key) < 0.5
        image = tf.cond(flipped, lambda: tf.reverse(image, axis=[1]), lambda: image)
    if rand is not None:
        image = tf.ensure_shape(randaugment(rand, image, rand_key), image.shape)
    return image


def training_dataset(source, config, *, batch_size, num_classes, seed=0, input_context=None):
    """An endless, shuffled, augmented dataset of `(images, one-hot labels)` batches.

    Args:
        source: a `ClassificationFiles` or `ClassificationRecords`.
        config: a `ClassificationConfig`.
        batch_size: examples per batch (per replica with `input_context`).
        num_classes: the one-hot width.
        seed: the run's seed.
        input_context: a `tf.distribute.InputContext`: keep this pipeline's share.
    """
    rand, mixers = augmentation_layers(config)

    def prepare(epoch, index, path, contents, label):
        key = example_key(seed, epoch, index)
        image = augment(load_image(path, contents), key, config, rand)
        target = tf.one_hot(_checked(label, num_classes), num_classes)
        return normalize(image, config.mean, config.std), target, key

    dataset = shard(_training_stream(source, seed), input_context)
    dataset = dataset.map(prepare, num_parallel_calls=AUTOTUNE, deterministic=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if mixers:

        def mix(images, targets, keys):
            key = tf.random.experimental.stateless_fold_in(keys[0], _MIX_STREAM)
            return mix_batch(mixers, images, targets, key)

        dataset = dataset.map(mix, num_parallel_calls=AUTOTUNE, deterministic=True)
    else:
        dataset = dataset.map(lambda images, targets, keys: (images, targets))
    return dataset.prefetch(AUTOTUNE)


def evaluation_examples(source, config, *, input_context=None):
    """Every example once, in order: `(normalised evaluation crop, class index)`."""

    def prepare(path, contents, label):
        crop = evaluation_crop(
            load_image(path, contents), config.crop_size, config.eval_crop_pct, config.interpolation
        )
        return normalize(crop, config.mean, config.std), _checked(label, source.num_classes)

    dataset = shard(_evaluation_stream(source), input_context)
    return dataset.map(prepare, num_parallel_calls=AUTOTUNE, deterministic=True)


def evaluation_dataset(source, config, *, batch_size, num_classes, input_context=None):
    """`(images, one-hot labels)` batches of every example once, in order (the last batch
    may be smaller)."""
    dataset = evaluation_examples(source, config, input_context=input_context)
    dataset = dataset.map(lambda image, label: (image, tf.one_hot(label, num_classes)))
    return dataset.batch(batch_size).prefetch(AUTOTUNE)
