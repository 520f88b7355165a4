"""The tf.data pipelines: crops, padding, flips with label swaps, determinism, sharding."""

import dataclasses
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hrnet_keras.data import normalize
from hrnet_keras.segmentation import SegmentationConfig
from hrnet_keras.segmentation.pipeline import (
    augment,
    evaluation_dataset,
    flip_horizontally,
    training_dataset,
)
from hrnet_keras.segmentation.readers import read_lip, read_voc

CONFIG = SegmentationConfig(num_classes=21, crop_size=(64, 96), base_size=128)


def _batches(dataset, count):
    return [(x.numpy(), y.numpy()) for x, y in dataset.take(count)]


def test_training_batches_are_deterministic_crops(voc_dir):
    files = read_voc(voc_dir, "train")
    first = _batches(training_dataset(files, CONFIG, batch_size=2, seed=3), 3)
    again = _batches(training_dataset(files, CONFIG, batch_size=2, seed=3), 3)
    other = _batches(training_dataset(files, CONFIG, batch_size=2, seed=4), 3)
    for (x, y), (x2, y2) in zip(first, again):
        assert x.shape == (2, 64, 96, 3) and x.dtype == np.float32 and y.shape == (2, 64, 96)
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
    assert any(not np.array_equal(x, x3) for (x, _), (x3, _) in zip(first, other))
    labels = np.concatenate([y.ravel() for _, y in first])
    assert set(np.unique(labels)) <= {0, 5, 6, 7, 9, 15, 18, 255}


def test_small_scales_pad_with_the_ignore_label(voc_dir):
    files = read_voc(voc_dir, "train")
    config = dataclasses.replace(CONFIG, crop_size=(160, 160), scale_range=(0.5, 0.5), flip=False)
    # Long side 128 * 0.5 = 64 < 160: the crop is mostly padding.
    x, y = _batches(training_dataset(files, config, batch_size=1), 1)[0]
    assert (y[0, 100:, :] == 255).all() and (y[0, :, 100:] == 255).all()
    black = (0.0 - np.array(config.mean)) / np.array(config.std)
    np.testing.assert_allclose(x[0, 150, 150], black, rtol=1e-5)


def test_lip_flip_swaps_left_and_right_labels():
    image = tf.zeros((2, 3, 3))
    label = tf.constant([[14, 15, 3], [16, 19, 18]], tf.uint8)
    _, flipped = flip_horizontally(image, label, ((14, 15), (16, 17), (18, 19)))
    assert flipped.numpy().tolist() == [[3, 14, 15], [19, 18, 17]]


def test_augment_flips_exactly_when_its_key_says(voc_dir):
    image = tf.constant(np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3))
    label = tf.constant(np.array([[14] * 3 + [3] * 3] * 4, np.uint8))
    config = dataclasses.replace(CONFIG, crop_size=(4, 6), base_size=None, scale_range=(1, 1))
    seen = set()
    for k in range(8):
        x, y = augment(image, label, tf.constant([k, 0], tf.int64), config, ((14, 15),))
        if y.numpy()[0, 0] == 3:  # mirrored, and the left part became a right one
            assert y.numpy()[0].tolist() == [3, 3, 3, 15, 15, 15]
            np.testing.assert_allclose(
                x.numpy(), normalize(image[:, ::-1], config.mean, config.std)
            )
            seen.add("flipped")
        else:
            np.testing.assert_allclose(x.numpy(), normalize(image, config.mean, config.std))
            assert y.numpy()[0].tolist() == [14, 14, 14, 3, 3, 3]
            seen.add("kept")
    assert seen == {"flipped", "kept"}


def test_input_context_shards_each_epoch(lip_dir):
    files = read_lip(lip_dir, "train")  # 2 images in the id list
    config = dataclasses.replace(CONFIG, crop_size=(32, 32), flip=False)
    whole = _batches(training_dataset(files, config, batch_size=1, seed=1), 4)
    shards = [
        _batches(
            training_dataset(
                files,
                config,
                batch_size=1,
                seed=1,
                input_context=tf.distribute.InputContext(2, i, 2),
            ),
            2,
        )
        for i in range(2)
    ]
    for step in range(2):
        np.testing.assert_array_equal(shards[0][step][0], whole[2 * step][0])
        np.testing.assert_array_equal(shards[1][step][0], whole[2 * step + 1][0])


def test_evaluation_dataset_is_ordered_and_padded(voc_dir):
    files = read_voc(voc_dir, "val")
    batches = _batches(evaluation_dataset(files, CONFIG, batch_size=2), 2)
    (x, y), (x2, _) = batches
    assert x.shape == (2, 96, 128, 3) and y.shape == (2, 96, 128)
    assert (y[0, 87:] == 255).all()  # 338x500 -> 86.5x128, padded to 96 rows
    assert x2.shape == (1, 96, 128, 3)
    again = _batches(evaluation_dataset(files, CONFIG, batch_size=2), 1)[0]
    np.testing.assert_array_equal(again[0], x)


def test_a_mismatched_mask_stops_the_pipeline_naming_the_file(tmp_path, voc_dir):
    shutil.copytree(voc_dir / "JPEGImages", tmp_path / "JPEGImages")
    shutil.copytree(voc_dir / "SegmentationClassPNG", tmp_path / "SegmentationClassPNG")
    bad = tmp_path / "SegmentationClassPNG" / "2011_000025.png"
    Image.open(bad).resize((250, 180)).save(bad)
    files = read_voc(tmp_path, "val")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"2011_000025\.png.*250x180"):
        _batches(evaluation_dataset(files, CONFIG, batch_size=1), 3)
