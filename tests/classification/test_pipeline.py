"""The training and evaluation pipelines: every random choice keyed by (seed, epoch, index),
one-hot targets, Keras' MixUp / CutMix / RandAugment under the same keys."""

import numpy as np
import pytest
import tensorflow as tf
from classification_trees import write_digit_tree

from hrnet_keras.classification import ClassificationConfig, read_split
from hrnet_keras.classification.pipeline import (
    augment,
    evaluation_dataset,
    training_dataset,
)
from hrnet_keras.data.images import load_image
from hrnet_keras.data.normalization import normalize
from hrnet_keras.data.random_keys import epoch_order, example_key

SMALL = dict(crop_size=32, scale_range=(0.5, 1.0), eval_crop_pct=1.0)


@pytest.fixture(scope="module")
def digit_files(digits, tmp_path_factory):
    root = write_digit_tree(digits, tmp_path_factory.mktemp("digits"), range(4))
    return read_split(ClassificationConfig(holdout_fraction=0.25), root, "train", None)


def _batches(files, config, count, seed=0, batch_size=6):
    dataset = training_dataset(files, config, batch_size=batch_size, num_classes=10, seed=seed)
    return [(x.numpy(), y.numpy()) for x, y in dataset.take(count)]


def test_training_batches_are_a_function_of_seed_epoch_and_index(digit_files):
    config = ClassificationConfig(**SMALL)
    batches = _batches(digit_files, config, 6)  # 30 training images: epoch 1 starts in batch 5
    assert batches[0][0].shape == (6, 32, 32, 3) and batches[0][1].shape == (6, 10)
    order = np.concatenate([epoch_order(0, e, len(digit_files)).numpy() for e in (0, 1)])
    for step, (images, targets) in enumerate(batches):
        for row in range(6):
            position = step * 6 + row
            epoch, index = divmod(position, len(digit_files))
            index = order[position]
            expected = augment(
                load_image(tf.constant(digit_files.images[index])),
                example_key(0, epoch, index),
                config,
            )
            np.testing.assert_array_equal(images[row], normalize(expected).numpy())
            assert targets[row].argmax() == digit_files.labels[index] and targets[row].sum() == 1
    # A resumed run skips batches of the same stream; another seed gives other crops.
    again = training_dataset(digit_files, config, batch_size=6, num_classes=10, seed=0)
    np.testing.assert_array_equal(next(iter(again.skip(4)))[0].numpy(), batches[4][0])
    assert not np.array_equal(_batches(digit_files, config, 1, seed=1)[0][0], batches[0][0])


@pytest.mark.slow
def test_mixing_and_randaugment_are_keyed(digit_files):
    config = ClassificationConfig(
        **SMALL, mixup_alpha=0.4, cutmix_alpha=1.0, randaugment_ops=2, randaugment_factor=0.5
    )
    first = _batches(digit_files, config, 4)
    second = _batches(digit_files, config, 4)
    plain = _batches(digit_files, ClassificationConfig(**SMALL), 4)
    for (x1, y1), (x2, y2), (x0, _) in zip(first, second, plain):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_allclose(y1.sum(axis=1), 1.0, rtol=1e-5)
        assert not np.array_equal(x1, x0)
    mixed = np.concatenate([y for _, y in first])
    assert ((mixed > 0.01) & (mixed < 0.99)).any(axis=1).mean() > 0.5


def test_evaluation_dataset_keeps_order_and_the_last_batch(digit_files):
    config = ClassificationConfig(**SMALL)
    batches = list(evaluation_dataset(digit_files, config, batch_size=8, num_classes=10))
    assert [len(x) for x, _ in batches] == [8, 8, 8, 6]
    labels = np.concatenate([y.numpy().argmax(axis=1) for _, y in batches])
    np.testing.assert_array_equal(labels, digit_files.labels)
