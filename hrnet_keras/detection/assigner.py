"""Max-IoU assignment of anchors or RoIs to ground-truth boxes (mmdetection v2's MaxIoUAssigner).

Rules, per image, for a candidate box (anchor or RoI) and its IoU with every ground truth:

1. Padding rows of the ground truth (`valid` False) take no part at all.
2. Crowd boxes are never matched. A candidate whose IoU with some crowd box is positive and
   larger than its IoU with every other ground-truth box lies mostly on the crowd: it is
   ignored (neither positive nor negative), as mmdetection ignores boxes over
   `gt_bboxes_ignore`. Candidates that touch a crowd box less than a real box follow the
   ordinary thresholds.
3. Negative: best IoU `< neg_iou_thr` (every valid candidate of an image without ground truth).
4. Positive: best IoU `>= pos_iou_thr`, matched to the ground truth of that IoU.
5. Low-quality matches (`match_low_quality`): every ground truth whose best IoU is at least
   `min_pos_iou` also claims the candidates of that IoU (all of them with
   `gt_max_assign_all`, else the first), overriding rules 2-4; with several claims the last
   ground truth wins, as mmdetection's loop does.
6. Candidates marked invalid (anchors on batch padding) are ignored and no ground truth
   claims them.
"""

from keras import ops
from keras.utils import bounding_boxes

POSITIVE, NEGATIVE, IGNORED = 1, 0, -1


def max_iou_assign(
    candidates,
    gt_boxes,
    gt_valid,
    *,
    pos_iou_thr,
    neg_iou_thr,
    min_pos_iou,
    match_low_quality=True,
    gt_max_assign_all=True,
    gt_crowd=None,
    candidate_valid=None,
):
    """Assigns every candidate box to a ground-truth box, to the background, or to nothing.

    Args:
        candidates: `(N, 4)` boxes shared by the batch (anchors) or `(B, N, 4)`, xyxy.
        gt_boxes: `(B, M, 4)` ground-truth boxes, xyxy.
        gt_valid: `(B, M)` bool, False for padding rows.
        pos_iou_thr: IoU from which a candidate is positive.
        neg_iou_thr: IoU below which a candidate is negative.
        min_pos_iou: the least IoU of a low-quality match.
        match_low_quality: whether each ground truth claims its best candidates.
        gt_max_assign_all: whether all of a ground truth's equally best candidates are claimed.
        gt_crowd: optional `(B, M)` bool, True for crowd boxes.
        candidate_valid: optional `(B, N)` bool, False for candidates to ignore.

    Returns:
        `(labels, matched)`: `labels` `(B, N)` int32, 1 positive, 0 negative, -1 ignored;
        `matched` `(B, N)` int32, the index of the ground truth of each positive (0 elsewhere).

    Example:
    >>> import numpy as np
    >>> anchors = np.array([[0.0, 0, 10, 10], [0, 0, 10, 8], [20, 20, 30, 30]])
    >>> labels, matched = max_iou_assign(
    ...     anchors, np.array([[[0.0, 0, 10, 10]]]), np.array([[True]]),
    ...     pos_iou_thr=0.9, neg_iou_thr=0.3, min_pos_iou=0.3)
    >>> np.asarray(labels).tolist(), np.asarray(matched).tolist()
    ([[1, -1, 0]], [[0, 0, 0]])
    """
    gt_boxes = ops.cast(gt_boxes, "float32")
    gt_valid = ops.cast(gt_valid, "bool")
    if gt_crowd is None:
        gt_crowd = ops.zeros_like(gt_valid)
    gt_crowd = ops.logical_and(ops.cast(gt_crowd, "bool"), gt_valid)
    real = ops.logical_and(gt_valid, ops.logical_not(gt_crowd))
    iou = bounding_boxes.compute_iou(ops.cast(candidates, "float32"), gt_boxes, "xyxy")
    if len(iou.shape) == 2:
        iou = ops.broadcast_to(iou[None], (ops.shape(gt_boxes)[0], *ops.shape(iou)))
    if candidate_valid is None:
        candidate_valid = ops.ones(ops.shape(iou)[:2], "bool")
    candidate_valid = ops.cast(candidate_valid, "bool")
    # -1 never reaches a threshold and never is a ground truth's best IoU.
    real_iou = ops.where(ops.logical_and(real[:, None, :], candidate_valid[:, :, None]), iou, -1.0)
    best_iou = ops.max(real_iou, axis=-1)
    matched = ops.cast(ops.argmax(real_iou, axis=-1), "int32")

    labels = ops.where(best_iou < neg_iou_thr, NEGATIVE, IGNORED)
    crowd_iou = ops.max(ops.where(gt_crowd[:, None, :], iou, 0.0), axis=-1)
    on_crowd = ops.logical_and(crowd_iou > 0.0, crowd_iou > best_iou)
    labels = ops.where(on_crowd, IGNORED, labels)
    labels = ops.where(best_iou >= pos_iou_thr, POSITIVE, labels)

    if match_low_quality:
        gt_best = ops.max(real_iou, axis=1)  # (B, M)
        claims = ops.logical_and(
            real_iou == gt_best[:, None, :], (gt_best >= min_pos_iou)[:, None, :]
        )
        claims = ops.logical_and(claims, real[:, None, :])
        if not gt_max_assign_all:
            first = ops.argmax(ops.cast(claims, "int32"), axis=1)  # (B, M)
            rows = ops.arange(ops.shape(claims)[1])
            claims = ops.logical_and(claims, rows[None, :, None] == first[:, None, :])
        # The last claiming ground truth wins: the largest index + 1, 0 for no claim.
        index = ops.arange(1, ops.shape(claims)[2] + 1, dtype="int32")
        claimant = ops.max(ops.where(claims, index[None, None, :], 0), axis=-1)
        claimed = claimant > 0
        labels = ops.where(claimed, POSITIVE, labels)
        matched = ops.where(claimed, claimant - 1, matched)

    labels = ops.where(candidate_valid, labels, IGNORED)
    matched = ops.where(labels == POSITIVE, matched, 0)
    return ops.cast(labels, "int32"), ops.cast(matched, "int32")
