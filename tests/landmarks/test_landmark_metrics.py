import json

import numpy as np
import pytest

from hrnet_keras.landmarks import auc, failure_rate, nme_per_face, normalisers, summarize


@pytest.mark.parametrize("dataset", ["wflw", "300w", "cofw", "aflw"])
def test_ground_truth_against_itself_is_zero(sample_faces, dataset):
    faces = sample_faces(dataset)
    gt = np.stack([f.landmarks for f in faces])
    norms = normalisers(gt, dataset, [f.box_size for f in faces])
    assert np.all(norms > 0)
    result = summarize(nme_per_face(gt, gt, norms))
    assert result["nme"] == 0.0 and result["fr_0.08"] == 0.0 and result["auc_0.08"] == 1.0
    json.dumps(result)


def test_known_perturbation_matches_hand_computation(sample_faces):
    faces = sample_faces("300w")
    gt = np.stack([f.landmarks for f in faces]).astype(np.float64)
    pred = gt.copy()
    pred[0, :, 0] += 3.0  # every point of face 0 moves (3, 4): error 5
    pred[0, :, 1] += 4.0
    pred[1, 10] += (6.0, 8.0)  # one point of face 1 moves by 10
    iod = [np.hypot(*(g[36] - g[45])) for g in gt]
    expected = [5.0 / iod[0], 10.0 / 68 / iod[1]]
    np.testing.assert_allclose(nme_per_face(pred, gt, normalisers(gt, "300w")), expected)


def test_interocular_indices_and_box_size():
    gt = np.zeros((1, 98, 2))
    gt[0, 60], gt[0, 72] = (0, 0), (30, 40)
    assert normalisers(gt, "wflw").tolist() == [50.0]
    assert normalisers(np.zeros((2, 19, 2)), "aflw", [100.0, 50.0]).tolist() == [100.0, 50.0]
    with pytest.raises(ValueError, match="box_size"):
        normalisers(np.zeros((1, 19, 2)), "aflw")


def test_failure_rate_and_auc_by_hand():
    nmes = [0.01, 0.05, 0.09, 0.2]
    assert failure_rate(nmes, 0.08) == 0.5
    assert failure_rate(nmes, 0.1) == 0.25
    # Cumulative error curve on [0, 0.08]: steps at 0.01 and 0.05.
    assert auc(nmes, 0.08) == pytest.approx(((0.05 - 0.01) * 0.25 + (0.08 - 0.05) * 0.5) / 0.08)
    grid = np.linspace(0, 0.1, 100001)
    curve = (np.asarray(nmes)[None] <= grid[:, None]).mean(1)
    assert auc(nmes, 0.1) == pytest.approx(np.trapezoid(curve, grid) / 0.1, abs=1e-4)
