"""TFRecord shards of `tf.train.Example`s in the common classification schema.

Each record holds `image/encoded` (the JPEG / PNG bytes) and `image/class/label` (int64), as
written by TF-slim's and Model Garden's ImageNet converters; other features are ignored.
The shards of a split are the files of the dataset folder named `<split>-*` or
`<split>.tfrecord*` (`train-00000-of-01024`, `validation-00000-of-00128`). Those converters
store ImageNet labels as 1..1000: read them with `label_offset=1`.
"""

import os

import tensorflow as tf

from hrnet_keras.classification.readers.files import ClassificationRecords

FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64),
}


def find_shards(data_dir, split):
    """The sorted TFRecord files of `split` in `data_dir`."""
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"The dataset folder {data_dir!r} does not exist. {data_dir=}")
    shards = sorted(
        os.path.join(data_dir, name)
        for name in os.listdir(data_dir)
        if name.startswith((f"{split}-", f"{split}.tfrecord"))
        and os.path.isfile(os.path.join(data_dir, name))
    )
    if not shards:
        raise FileNotFoundError(
            f"No TFRecord shards of the split {split!r} in {data_dir!r} (files named "
            f"`{split}-*` or `{split}.tfrecord*`). Received: split={split!r}"
        )
    return shards


def parse_example(serialized, label_offset=0):
    """`(encoded image bytes, class index)` of one serialized `tf.train.Example`.

    Example:
    >>> example = tf.train.Example(features=tf.train.Features(feature={
    ...     "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"jpg"])),
    ...     "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[3])),
    ... }))
    >>> encoded, label = parse_example(example.SerializeToString(), label_offset=1)
    >>> encoded.numpy(), int(label)
    (b'jpg', 2)
    """
    features = tf.io.parse_single_example(serialized, FEATURES)
    return features["image/encoded"], features["image/class/label"] - label_offset


def count_records(shards):
    """The number of records in `shards` (reads every shard once)."""
    return int(tf.data.TFRecordDataset(shards).reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))


def read_tfrecords(data_dir, split, class_names, *, label_offset=0, count=None):
    """The `ClassificationRecords` of `split` (see the module doc)."""
    return ClassificationRecords(
        find_shards(data_dir, split), tuple(class_names), label_offset, count
    )
