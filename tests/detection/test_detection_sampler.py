"""The static-shape random sampler: counts, fractions, padding, reproducibility."""

import keras
import numpy as np
import pytest

from hrnet_keras.detection.sampler import random_sample, top_k_padded


def draw(labels, num, fraction, seed=0):
    out = random_sample(np.asarray(labels), num, fraction, seed=keras.random.SeedGenerator(seed))
    return {k: np.asarray(v) for k, v in out.items()}


def test_counts_and_fraction():
    rng = np.random.default_rng(0)
    labels = rng.choice([1, 0, -1], (3, 2000), p=[0.1, 0.6, 0.3])
    out = draw(labels, 256, 0.5)
    assert out["indices"].shape == (3, 256)
    assert out["valid"].all()
    assert (out["positive"].sum(1) == 128).all()
    picked = np.take_along_axis(labels, out["indices"], 1)
    assert (picked[out["positive"]] == 1).all() and (picked[~out["positive"]] == 0).all()
    for row in out["indices"]:
        assert len(set(row.tolist())) == 256  # without replacement


def test_few_positives_give_more_negatives_and_padding_when_short():
    labels = np.array([[1, 1, 0, 0, 0, 0, 0, 0, -1, -1], [1, 0, -1, -1, -1, -1, -1, -1, -1, -1]])
    out = draw(labels, 6, 0.5)
    assert out["positive"].sum(1).tolist() == [2, 1]
    assert out["valid"].sum(1).tolist() == [6, 2]
    assert (out["indices"][~out["valid"]] == 0).all()
    assert not out["positive"][~out["valid"]].any()


def test_empty_ground_truth_samples_negatives_only():
    out = draw(np.zeros((1, 50), "int32"), 16, 0.25)
    assert out["valid"].all() and not out["positive"].any()


def test_reproducible_given_the_seed():
    labels = np.random.default_rng(1).choice([1, 0], (1, 500))
    first, again, other = (
        draw(labels, 32, 0.5, 3),
        draw(labels, 32, 0.5, 3),
        draw(labels, 32, 0.5, 4),
    )
    np.testing.assert_array_equal(first["indices"], again["indices"])
    assert not np.array_equal(first["indices"], other["indices"])
    # One generator draws anew on each call.
    seed = keras.random.SeedGenerator(0)
    a = np.asarray(random_sample(labels, 32, 0.5, seed=seed)["indices"])
    b = np.asarray(random_sample(labels, 32, 0.5, seed=seed)["indices"])
    assert not np.array_equal(a, b)


def test_top_k_padded_with_few_entries():
    values, indices = top_k_padded(np.array([[0.2, 0.9]]), 4)
    assert np.asarray(values)[0, :2].tolist() == pytest.approx([0.9, 0.2])
    assert np.isneginf(np.asarray(values)[0, 2:]).all()
    assert np.asarray(indices).tolist() == [[1, 0, 0, 0]]


def test_rejects_bad_fraction():
    with pytest.raises(ValueError, match=r"Received: positive_fraction=1\.5"):
        random_sample(np.zeros((1, 4), "int32"), 2, 1.5)
