"""The max-IoU assigner on hand-made cases."""

import numpy as np

from hrnet_keras.detection.assigner import max_iou_assign

RPN = {"pos_iou_thr": 0.7, "neg_iou_thr": 0.3, "min_pos_iou": 0.3}


def assign(candidates, gt, valid=None, **kwargs):
    gt = np.asarray(gt, "float32")[None]
    valid = np.ones(gt.shape[:2], bool) if valid is None else np.asarray(valid)[None]
    settings = {**RPN, **kwargs}
    labels, matched = max_iou_assign(np.asarray(candidates, "float32"), gt, valid, **settings)
    return np.asarray(labels)[0].tolist(), np.asarray(matched)[0].tolist()


def test_thresholds():
    gt = [[0, 0, 10, 10], [20, 20, 40, 40]]
    candidates = [
        [0, 0, 10, 10],  # IoU 1 with gt 0
        [20, 20, 40, 36],  # IoU 0.8 with gt 1
        [0, 0, 10, 5],  # IoU 0.5: between the thresholds
        [0, 0, 10, 2],  # IoU 0.2: negative
        [60, 60, 70, 70],  # nothing
    ]
    labels, matched = assign(candidates, gt, match_low_quality=False)
    assert labels == [1, 1, -1, 0, 0]
    assert matched == [0, 1, 0, 0, 0]


def test_low_quality_matches_all_equal_best_last_gt_wins():
    gt = [[0, 0, 10, 10], [0, 0, 10, 10.5]]
    candidates = [[0, 0, 10, 5], [0, 0, 5, 10], [50, 50, 60, 60]]
    # Both gt boxes have their best IoU (0.5 and 0.476) at the first two candidates; ties
    # are all claimed, and gt 1 claims after gt 0.
    labels, matched = assign(candidates, gt)
    assert labels == [1, 1, 0]
    assert matched == [1, 1, 0]
    labels, _ = assign(candidates, gt, gt_max_assign_all=False)
    assert labels == [1, -1, 0]
    labels, _ = assign(candidates, gt, min_pos_iou=0.6)
    assert labels == [-1, -1, 0]


def test_padding_rows_take_no_part():
    gt = [[0, 0, 10, 10], [0, 0, 10, 10]]
    labels, matched = assign([[0, 0, 10, 10], [0, 0, 10, 2]], gt, valid=[False, True])
    assert labels == [1, 0] and matched == [1, 0]
    labels, _ = assign([[0, 0, 10, 10], [0, 0, 10, 2]], gt, valid=[False, False])
    assert labels == [0, 0]  # no ground truth: every candidate is background


def test_crowd_boxes_are_ignored_not_matched():
    gt = np.array([[[0, 0, 100, 100], [200, 200, 220, 220]]], "float32")
    crowd = np.array([[True, False]])
    candidates = np.array(
        [
            [10, 10, 20, 20],  # inside the crowd only: ignored
            [0, 0, 100, 100],  # the crowd box itself: ignored, never positive
            [200, 200, 220, 220],  # the real box
            [150, 150, 160, 160],  # far from both: negative
            [95, 95, 215, 215],  # touches the crowd less than the real box
        ],
        "float32",
    )
    labels, matched = max_iou_assign(candidates, gt, np.ones((1, 2), bool), gt_crowd=crowd, **RPN)
    assert np.asarray(labels).tolist() == [[-1, -1, 1, 0, 0]]
    assert np.asarray(matched)[0, 2] == 1


def test_invalid_candidates_are_ignored_and_never_claimed():
    gt = np.array([[[0, 0, 10, 10]]], "float32")
    candidates = np.array([[0, 0, 10, 10], [0, 0, 10, 4]], "float32")
    labels, _ = max_iou_assign(
        candidates, gt, np.ones((1, 1), bool), candidate_valid=np.array([[False, True]]), **RPN
    )
    # The best valid candidate (IoU 0.4) becomes the low-quality match.
    assert np.asarray(labels).tolist() == [[-1, 1]]


def test_batched_candidates():
    gt = np.array([[[0, 0, 10, 10]], [[20, 20, 30, 30]]], "float32")
    candidates = np.array([[[0, 0, 10, 10], [20, 20, 30, 30]]] * 2, "float32")
    labels, matched = max_iou_assign(
        candidates, gt, np.ones((2, 1), bool), match_low_quality=False, **RPN
    )
    assert np.asarray(labels).tolist() == [[1, 0], [0, 1]]
    assert np.asarray(matched).tolist() == [[0, 0], [0, 0]]
