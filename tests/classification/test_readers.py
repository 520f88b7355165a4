"""Class folder trees (one tree split by a held-out share, or train/ and val/ trees) and
TFRecord shards written here, read into the same labelled examples."""

import shutil

import numpy as np
import pytest
import tensorflow as tf
from classification_trees import write_digit_tree

from hrnet_keras.classification import ClassificationConfig, read_split
from hrnet_keras.classification.pipeline import evaluation_examples
from hrnet_keras.classification.readers import (
    ClassificationRecords,
    class_folders,
    folder_class_names,
    holdout_split,
    read_class_tree,
)
from hrnet_keras.data.images import read_image

CROP_CLASSES = ("bottle", "bus", "car", "chair", "person", "sofa")


def test_crop_tree_classes_are_the_sorted_folders(crop_tree):
    files = read_class_tree(crop_tree)
    assert files.class_names == CROP_CLASSES
    counts = np.bincount(files.labels, minlength=6)
    assert counts.tolist() == [1, 2, 1, 1, 19, 1]
    assert {p.rsplit(".", 1)[-1] for p in files.images} == {"jpg", "png"}
    for path, label in zip(files.images, files.labels):
        assert f"/{CROP_CLASSES[label]}/" in path


def test_single_tree_holds_out_each_class_deterministically(crop_tree):
    config = ClassificationConfig(holdout_fraction=0.2)
    train = read_split(config, crop_tree, "train", None)
    val = read_split(config, crop_tree, "val", None)
    assert not set(train.images) & set(val.images)
    assert len(train) + len(val) == 25
    # 20% of 19 persons is 4; one of the two buses; single crops stay in training.
    assert np.bincount(val.labels, minlength=6).tolist() == [0, 1, 0, 0, 4, 0]
    again = read_split(config, crop_tree, "val", None)
    assert again.images == val.images
    other = read_split(
        ClassificationConfig(holdout_fraction=0.2, split_seed=1), crop_tree, "val", None
    )
    assert other.images != val.images


def test_holdout_of_a_class_ignores_the_other_classes(digits, tmp_path):
    files = read_class_tree(write_digit_tree(digits, tmp_path / "all", range(30)))
    _, held_out = holdout_split(files, 0.1)
    shutil.rmtree(tmp_path / "all" / "7")
    _, fewer = holdout_split(read_class_tree(tmp_path / "all"), 0.1)
    same = {p for p in held_out.images if "/7/" not in p}
    assert same == set(fewer.images) and len(held_out) == 30


def test_train_and_val_trees(digits, tmp_path):
    write_digit_tree(digits, tmp_path / "train", range(0, 20))
    write_digit_tree(digits, tmp_path / "val", range(20, 25))
    shutil.rmtree(tmp_path / "val" / "3")  # a class without validation images is fine
    config = ClassificationConfig()
    assert folder_class_names(tmp_path) == tuple(map(str, range(10)))
    val = read_split(config, tmp_path, "val", folder_class_names(tmp_path))
    assert len(val) == 45 and 3 not in val.labels
    assert read_image(val.images[0]).shape == (20, 20, 3)
    (tmp_path / "val" / "letter_a").mkdir()
    with pytest.raises(ValueError, match=r"letter_a.* not one of the 10 known classes"):
        read_split(config, tmp_path, "val", folder_class_names(tmp_path))


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        class_folders(tmp_path / "missing")
    with pytest.raises(ValueError, match="has no subfolder"):
        class_folders(tmp_path)
    (tmp_path / "cat").mkdir()
    with pytest.raises(ValueError, match="holds no image"):
        read_class_tree(tmp_path)


def _example(encoded, label):
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded])),
                "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                "image/class/text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"])),
            }
        )
    ).SerializeToString()


def test_tfrecord_shards_read_as_the_files(crop_tree, tmp_path):
    files = read_class_tree(crop_tree)
    shards = tmp_path / "records"
    shards.mkdir()
    for shard in range(3):  # 1-based labels, as TF-slim's ImageNet shards
        path = shards / f"validation-{shard:05d}-of-00003"
        with tf.io.TFRecordWriter(str(path)) as writer:
            for i in range(shard, len(files), 3):
                with open(files.images[i], "rb") as f:
                    writer.write(_example(f.read(), int(files.labels[i]) + 1))
    (shards / "train-00000-of-00001").write_bytes(b"")
    config = ClassificationConfig(dataset="tfrecord", eval_split="validation", label_offset=1)
    records = read_split(config, shards, "validation", CROP_CLASSES)
    assert isinstance(records, ClassificationRecords)
    assert [s.rsplit("/", 1)[-1][:16] for s in records.shards] == ["validation-00000"] * 1 + [
        "validation-00001",
        "validation-00002",
    ]
    assert len(records) == len(files)
    config.crop_size, config.eval_crop_pct = 64, 1.0
    from_records = list(evaluation_examples(records, config).as_numpy_iterator())
    from_files = list(evaluation_examples(files, config).as_numpy_iterator())
    order = [i for shard in range(3) for i in range(shard, len(files), 3)]
    for (image, label), i in zip(from_records, order):
        assert label == files.labels[i]
        np.testing.assert_array_equal(image, from_files[i][0])  # the same decoder (PIL)


def test_tfrecord_errors(tmp_path):
    config = ClassificationConfig(dataset="tfrecord")
    with pytest.raises(FileNotFoundError, match="No TFRecord shards of the split 'train'"):
        read_split(config, tmp_path, "train", ("a",))
    png = tf.io.encode_png(tf.zeros((4, 4, 3), tf.uint8)).numpy()
    with tf.io.TFRecordWriter(str(tmp_path / "val-0")) as writer:
        writer.write(_example(png, 5))
    records = read_split(config, tmp_path, "val", ("a", "b"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="class index is >= the number"):
        list(evaluation_examples(records, config))
