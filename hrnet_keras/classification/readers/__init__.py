"""Readers of the classification layouts: `read_split` dispatches on the layout a
`ClassificationConfig` names (`"folder"`, `"imagenet"` or `"tfrecord"`).
"""

from hrnet_keras.classification.readers.files import ClassificationFiles, ClassificationRecords
from hrnet_keras.classification.readers.folders import (
    class_folders,
    folder_class_names,
    holdout_split,
    read_class_tree,
    read_folder_split,
)
from hrnet_keras.classification.readers.imagenet import read_imagenet, read_label_file
from hrnet_keras.classification.readers.tfrecord import parse_example, read_tfrecords

LAYOUTS = ("folder", "imagenet", "tfrecord")


def check_layout(layout):
    if layout not in LAYOUTS:
        raise ValueError(f"`dataset` must be one of {LAYOUTS}. Received: dataset={layout!r}")
    return layout


def read_split(config, data_dir, split, class_names):
    """The files (or shards) of `split` in the layout `config.dataset`.

    Args:
        config: a `ClassificationConfig`.
        data_dir: the dataset root.
        split: a split name (`config.train_split` or `config.eval_split`).
        class_names: the task's classes, in index order.

    Returns:
        A `ClassificationFiles`, or `ClassificationRecords` for TFRecord shards.

    Example:
    >>> from hrnet_keras.classification import ClassificationConfig
    >>> read_split(ClassificationConfig(dataset="csv"), ".", "train", ())
    Traceback (most recent call last):
    ...
    ValueError: `dataset` must be one of ('folder', 'imagenet', 'tfrecord'). Received: dataset='csv'
    """
    layout = check_layout(config.dataset)
    if layout == "imagenet":
        return read_imagenet(data_dir, split)
    if layout == "tfrecord":
        count = config.train_examples if split == config.train_split else None
        return read_tfrecords(
            data_dir, split, class_names, label_offset=config.label_offset, count=count
        )
    return read_folder_split(
        data_dir,
        split,
        train_split=config.train_split,
        eval_split=config.eval_split,
        holdout_fraction=config.holdout_fraction,
        split_seed=config.split_seed,
        class_names=class_names,
    )


__all__ = [
    "LAYOUTS",
    "ClassificationFiles",
    "ClassificationRecords",
    "check_layout",
    "class_folders",
    "folder_class_names",
    "holdout_split",
    "parse_example",
    "read_class_tree",
    "read_folder_split",
    "read_imagenet",
    "read_label_file",
    "read_split",
    "read_tfrecords",
]
