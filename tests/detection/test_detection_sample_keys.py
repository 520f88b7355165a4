"""Per-example sampler keys: an image samples the same anchors and RoIs in any batch."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from detection_helpers import synthetic_batch, tiny_pyramid

from hrnet_keras.data.random_keys import epoch_order, example_key
from hrnet_keras.detection import FasterRCNN
from hrnet_keras.detection.faster_rcnn import SAMPLE_KEY
from hrnet_keras.detection.pipeline import training_dataset
from hrnet_keras.detection.reader import DetectionDataConfig, DetectionReader
from hrnet_keras.detection.sampler import ExampleKeys, random_sample

KEYS = np.array([[11, 5], [-3, 40], [7, 7]], "int32")


def _indices(labels, seed):
    return np.asarray(random_sample(labels, 24, 0.5, seed=seed)["indices"])


def test_each_row_draws_from_its_own_key_whatever_the_batch():
    labels = np.random.default_rng(0).choice([1, 0, 0, -1], (3, 300))
    together = _indices(labels, ExampleKeys(KEYS, salt=0))
    for row in range(3):
        alone = _indices(labels[row : row + 1], ExampleKeys(KEYS[row : row + 1], salt=0))
        np.testing.assert_array_equal(together[row], alone[0])
    # Same labels, other keys or another salt: other samples.
    same = np.repeat(labels[:1], 3, axis=0)
    rows = _indices(same, ExampleKeys(KEYS, salt=0))
    assert not np.array_equal(rows[0], rows[1])
    assert not np.array_equal(rows[0], _indices(same, ExampleKeys(KEYS, salt=1))[0])
    np.testing.assert_array_equal(rows, _indices(same, ExampleKeys(KEYS, salt=0)))


def test_draws_per_candidate_identity_sample_the_same_candidates_in_any_order():
    rng = np.random.default_rng(2)
    labels = rng.choice([1, 0, 0, -1], (3, 200)).astype("int32")
    ids = np.stack([rng.permutation(500)[:200] for _ in range(3)]).astype("int32")
    order = np.stack([rng.permutation(200) for _ in range(3)])
    for seed in (ExampleKeys(KEYS, salt=1), 0):
        drawn, shuffled = (
            random_sample(
                np.take_along_axis(labels, rows, 1),
                24,
                0.25,
                seed=seed if isinstance(seed, ExampleKeys) else keras.random.SeedGenerator(seed),
                ids=np.take_along_axis(ids, rows, 1),
                num_ids=500,
            )
            for rows in (np.arange(200)[None].repeat(3, 0), order)
        )
        # The same candidates (by identity), in the same rows.
        picked = np.take_along_axis(ids, np.asarray(drawn["indices"]), 1)
        picked_shuffled = np.take_along_axis(
            np.take_along_axis(ids, order, 1), np.asarray(shuffled["indices"]), 1
        )
        np.testing.assert_array_equal(picked_shuffled, picked)
        np.testing.assert_array_equal(shuffled["positive"], drawn["positive"])
    # Drawn per row instead, the same reordering picks other candidates.
    by_row = np.asarray(random_sample(labels, 24, 0.25, seed=ExampleKeys(KEYS))["indices"])
    by_row_shuffled = np.asarray(
        random_sample(np.take_along_axis(labels, order, 1), 24, 0.25, seed=ExampleKeys(KEYS))[
            "indices"
        ]
    )
    assert not np.array_equal(
        np.take_along_axis(np.take_along_axis(ids, order, 1), by_row_shuffled, 1),
        np.take_along_axis(ids, by_row, 1),
    )
    with pytest.raises(ValueError, match="come together"):
        random_sample(labels, 24, 0.25, ids=ids)


def test_keyed_draws_compile_with_xla_and_keep_rows_apart():
    # XLA's stateless generator gives other numbers than TensorFlow's kernels: compare
    # XLA with itself.
    labels = np.random.default_rng(1).choice([1, 0], (3, 100)).astype("int32")
    draw = tf.function(
        lambda labels, keys: random_sample(labels, 16, 0.25, seed=ExampleKeys(keys))["indices"],
        jit_compile=True,
    )
    together = draw(labels, KEYS).numpy()
    np.testing.assert_array_equal(draw(labels[1:2], KEYS[1:2]).numpy()[0], together[1])
    assert not np.array_equal(together[0], together[1])


def test_the_training_pipeline_keys_each_example_apart_from_its_flip(shared_data):
    folder = shared_data / "coco_persons"
    config = DetectionDataConfig(
        layout="json",
        train_annotations="test_coco.json",
        train_images="",
        min_size=64,
        max_size=96,
        pad_shape=(64, 96),
    )
    split = DetectionReader(config, folder).split(training=True)
    (_, targets), *_ = training_dataset(split, config, batch_size=4, seed=3).take(1)
    keys = targets[SAMPLE_KEY].numpy()
    assert keys.dtype == np.int32 and keys.shape == (4, 2)
    assert len({tuple(k) for k in keys}) == 4
    # fold_in(example_key(seed, epoch, index), 1) in the epoch's order.
    order = epoch_order(3, tf.constant(0, tf.int64), len(split)).numpy()
    for key, index in zip(keys, order):
        expected = tf.random.experimental.stateless_fold_in(
            example_key(3, 0, int(index)), tf.constant(1, tf.int64)
        )
        np.testing.assert_array_equal(key, tf.cast(expected, tf.int32).numpy())


def test_a_batch_loses_the_mean_of_its_images_losses_with_keys():
    """Every image samples its full quota (64 anchors, 16 RoIs), so the batch's losses, summed
    and divided by the batch's samples, are the mean of each image's alone: only if each
    image draws the same samples alone as in the batch."""
    model = FasterRCNN(
        tiny_pyramid(),
        num_classes=3,
        fc_channels=16,
        rpn_channels=8,
        train_pre_nms_top_k=100,
        max_proposals=64,
        rpn_num_samples=64,
        rcnn_num_samples=16,
    )
    images, targets = synthetic_batch(seed=2, batch=3)
    targets = {**targets, SAMPLE_KEY: KEYS}
    first = model._first_stage(images, training=False)
    batch = model.detection_losses(first, targets)
    alone = []
    for row in range(3):
        one = {k: v[row : row + 1] for k, v in targets.items()}
        alone.append(model.detection_losses(model._first_stage(images[row : row + 1], False), one))
    for name, value in batch.items():
        mean = np.mean([float(a[name]) for a in alone])
        np.testing.assert_allclose(float(value), mean, rtol=1e-5, atol=1e-7, err_msg=name)
    assert isinstance(model.sampler_seed(targets, 0), ExampleKeys)
    assert model.sampler_seed({"boxes": targets["boxes"]}, 0) is model.seed_generator
