import numpy as np
import pytest

from hrnet_keras.landmarks import FLIP_PAIRS, flip_landmarks, flip_permutation

DATASETS = ["wflw", "300w", "cofw", "aflw"]


@pytest.mark.parametrize("num_landmarks", sorted(FLIP_PAIRS))
def test_pairs_are_an_involution(num_landmarks):
    pairs = np.array(FLIP_PAIRS[num_landmarks])
    assert len(np.unique(pairs)) == pairs.size  # every landmark in at most one pair
    assert pairs.max() < num_landmarks
    p = flip_permutation(num_landmarks)
    np.testing.assert_array_equal(p[p], np.arange(num_landmarks))
    points = np.random.default_rng(0).uniform(0, 100, (num_landmarks, 2))
    np.testing.assert_allclose(flip_landmarks(flip_landmarks(points, 120), 120), points)


def _procrustes_residual(source, target):
    """RMS distance after the best similarity (rotation, scale, shift; no reflection)."""
    a, b = source - source.mean(0), target - target.mean(0)
    u, s, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    rotation = u @ np.diag([1, d]) @ vt
    scale = (s * [1, d]).sum() / (a**2).sum()
    return np.sqrt((((scale * a @ rotation) - b) ** 2).sum(1).mean())


@pytest.mark.parametrize("dataset", DATASETS)
def test_mirrored_real_faces_match_themselves(sample_faces, dataset):
    """A face is nearly symmetric: its mirror image, relabelled with the pairs, aligns with it;
    mirrored but not relabelled (or relabelled wrongly), it does not."""
    for face in sample_faces(dataset):
        points = face.landmarks.astype(np.float64)
        size = np.ptp(points, axis=0).max()
        mirrored = flip_landmarks(points, 1000)
        good = _procrustes_residual(mirrored, points) / size
        unlabelled = points.copy()
        unlabelled[:, 0] = 999 - unlabelled[:, 0]
        bad = _procrustes_residual(unlabelled, points) / size
        assert good < 0.1, (face.source, good)
        assert good < 0.35 * bad, (face.source, good, bad)


def test_unknown_scheme():
    with pytest.raises(ValueError, match="num_landmarks=5"):
        flip_permutation(5)
