"""The region proposal network: its head, its proposals and its training loss (mmdet v2 RPN)."""

import keras
from keras import ops

from hrnet_keras.detection.assigner import max_iou_assign
from hrnet_keras.detection.box_coder import clip_boxes, decode_boxes, encode_boxes, smooth_l1
from hrnet_keras.detection.nms import batched_nms
from hrnet_keras.detection.replicas import mean_divisor
from hrnet_keras.detection.sampler import random_sample, top_k_padded


@keras.saving.register_keras_serializable(package="hrnet_keras")
class RPNHead(keras.layers.Layer):
    """The RPN head shared by every pyramid level: conv3x3 + ReLU, then 1x1 scores and deltas.

    Args:
        num_anchors: anchors per location (A).
        channels: channels of the 3x3 conv.

    Call arguments:
        features: a list of `(B, H_l, W_l, C)` pyramid levels.

    Returns:
        `(scores, deltas)`: lists of `(B, H_l, W_l, A)` logits and `(B, H_l, W_l, 4A)` deltas,
        anchor `a`'s deltas in channels `4a .. 4a + 3`.

    Example:
    >>> import numpy as np
    >>> head = RPNHead(num_anchors=3, channels=8)
    >>> scores, deltas = head([np.zeros((1, 4, 4, 8)), np.zeros((1, 2, 2, 8))])
    >>> [tuple(s.shape) for s in scores], [tuple(d.shape) for d in deltas]
    ([(1, 4, 4, 3), (1, 2, 2, 3)], [(1, 4, 4, 12), (1, 2, 2, 12)])
    """

    def __init__(self, num_anchors=3, channels=256, **kwargs):
        super().__init__(**kwargs)
        self.num_anchors = num_anchors
        self.channels = channels
        # mmdetection initialises the RPN convs from N(0, 0.01), biases 0.
        init = keras.initializers.RandomNormal(stddev=0.01)
        self.rpn_conv = keras.layers.Conv2D(
            channels, 3, padding="same", kernel_initializer=init, name="rpn_conv"
        )
        self.rpn_cls = keras.layers.Conv2D(num_anchors, 1, kernel_initializer=init, name="rpn_cls")
        self.rpn_reg = keras.layers.Conv2D(
            4 * num_anchors, 1, kernel_initializer=init, name="rpn_reg"
        )

    def build(self, input_shape):
        level_shape = tuple(input_shape[0])
        self.rpn_conv.build(level_shape)
        hidden = (*level_shape[:-1], self.channels)
        self.rpn_cls.build(hidden)
        self.rpn_reg.build(hidden)
        self.built = True

    def call(self, features):
        scores, deltas = [], []
        for x in features:
            x = ops.relu(self.rpn_conv(x))
            scores.append(self.rpn_cls(x))
            deltas.append(self.rpn_reg(x))
        return scores, deltas

    def compute_output_shape(self, input_shape):
        scores = [(*s[:-1], self.num_anchors) for s in input_shape]
        deltas = [(*s[:-1], 4 * self.num_anchors) for s in input_shape]
        return scores, deltas

    def get_config(self):
        return {**super().get_config(), "num_anchors": self.num_anchors, "channels": self.channels}


def flatten_levels(scores, deltas):
    """Per-level head outputs as `(B, N)` logits and `(B, N, 4)` deltas, in anchor order."""
    batch = ops.shape(scores[0])[0]
    logits = ops.concatenate([ops.reshape(s, (batch, -1)) for s in scores], axis=1)
    boxes = ops.concatenate([ops.reshape(d, (batch, -1, 4)) for d in deltas], axis=1)
    return logits, boxes


def generate_proposals(
    scores,
    deltas,
    anchors,
    image_shape,
    *,
    pre_nms_top_k=1000,
    iou_threshold=0.7,
    max_proposals=1000,
    return_anchor_ids=False,
):
    """RPN proposals: per level the best `pre_nms_top_k` anchors, decoded, clipped, NMS per level.

    Boxes of zero width or height after clipping are dropped; NMS runs within each level
    (`batched_nms` with the level as group) and the best `max_proposals` are kept over all
    levels. No gradient flows into the proposals.

    Args:
        scores: list of `(B, H_l, W_l, A)` logits, one per level.
        deltas: list of `(B, H_l, W_l, 4A)` deltas.
        anchors: list of `(H_l * W_l * A, 4)` anchors (`multilevel_anchors`).
        image_shape: `(B, 2)` `(height, width)` of each unpadded image.
        pre_nms_top_k: anchors kept per level before NMS (2000 to train, 1000 to test).
        iou_threshold: NMS threshold.
        max_proposals: proposals per image.
        return_anchor_ids: also return each proposal's anchor, its row in the levels'
            anchors concatenated: an identity of the proposal that does not depend on its
            rank (two proposals whose scores are one rounding apart can swap rows).

    Returns:
        `(boxes, scores, valid)`: `(B, max_proposals, 4)` xyxy, `(B, max_proposals)` sigmoid
        scores in descending order and `(B, max_proposals)` bool; invalid rows are zeros.
        With `return_anchor_ids`, `(B, max_proposals)` int32 anchor rows come fourth (0 on
        invalid rows).
    """
    all_boxes, all_scores, all_levels, all_ids = [], [], [], []
    first_anchor = 0
    for level, (logits, level_deltas, level_anchors) in enumerate(zip(scores, deltas, anchors)):
        batch = ops.shape(logits)[0]
        probabilities = ops.sigmoid(ops.reshape(ops.stop_gradient(logits), (batch, -1)))
        top_scores, top_indices = top_k_padded(probabilities, pre_nms_top_k)
        level_deltas = ops.reshape(ops.stop_gradient(level_deltas), (batch, -1, 4))
        picked = ops.take_along_axis(level_deltas, top_indices[..., None], axis=1)
        boxes = clip_boxes(
            decode_boxes(ops.take(level_anchors, top_indices, axis=0), picked), image_shape
        )
        nonempty = ops.logical_and(boxes[..., 2] > boxes[..., 0], boxes[..., 3] > boxes[..., 1])
        all_scores.append(ops.where(nonempty, top_scores, float("-inf")))
        all_boxes.append(boxes)
        all_levels.append(ops.full(ops.shape(top_indices), level, dtype="int32"))
        all_ids.append(top_indices + first_anchor)
        first_anchor = first_anchor + ops.shape(level_anchors)[0]
    boxes = ops.concatenate(all_boxes, axis=1)
    scores = ops.concatenate(all_scores, axis=1)
    keep, valid = batched_nms(
        boxes, scores, ops.concatenate(all_levels, axis=1), iou_threshold, max_proposals
    )
    boxes = ops.take_along_axis(boxes, keep[..., None], axis=1)
    scores = ops.take_along_axis(scores, keep, axis=1)
    boxes = ops.where(valid[..., None], boxes, 0.0)
    scores = ops.where(valid, scores, 0.0)
    if not return_anchor_ids:
        return boxes, scores, valid
    anchor_ids = ops.take_along_axis(ops.concatenate(all_ids, axis=1), keep, axis=1)
    return boxes, scores, valid, ops.where(valid, anchor_ids, 0)


def rpn_loss(
    scores,
    deltas,
    anchors,
    anchor_valid,
    targets,
    *,
    seed=None,
    num_samples=256,
    positive_fraction=0.5,
    pos_iou_thr=0.7,
    neg_iou_thr=0.3,
    min_pos_iou=0.3,
    smooth_l1_beta=0.0,
):
    """The RPN's classification (sigmoid BCE) and box (L1) losses over sampled anchors.

    Both are summed over the batch and divided by the number of sampled anchors of the
    batch, as mmdetection v2's `AnchorHead.loss`.

    Args:
        scores: list of `(B, H_l, W_l, A)` logits.
        deltas: list of `(B, H_l, W_l, 4A)` deltas.
        anchors: `(N, 4)` anchors of all levels, concatenated.
        anchor_valid: `(B, N)` bool, False for anchors on batch padding.
        targets: dict of `"boxes"` `(B, M, 4)`, `"labels"` `(B, M)` (-1 padding) and
            optionally `"crowd"` `(B, M)`.
        seed: a `keras.random.SeedGenerator` or `ExampleKeys` for the sampler.
        num_samples, positive_fraction: the sampler's settings.
        pos_iou_thr, neg_iou_thr, min_pos_iou: the assigner's settings.
        smooth_l1_beta: the box loss is smooth L1 with this `beta` (`smooth_l1`); 0 is L1.

    Returns:
        `(classification_loss, box_loss)`, scalars.
    """
    logits, predicted = flatten_levels(scores, deltas)
    gt_boxes = ops.cast(targets["boxes"], "float32")
    labels, matched = max_iou_assign(
        anchors,
        gt_boxes,
        ops.convert_to_tensor(targets["labels"]) >= 0,
        pos_iou_thr=pos_iou_thr,
        neg_iou_thr=neg_iou_thr,
        min_pos_iou=min_pos_iou,
        gt_crowd=targets.get("crowd"),
        candidate_valid=anchor_valid,
    )
    sample = random_sample(labels, num_samples, positive_fraction, seed=seed)
    index = sample["indices"]
    positive = ops.cast(sample["positive"], "float32")
    weight = ops.cast(sample["valid"], "float32")
    count = mean_divisor(ops.sum(weight))

    sampled_logits = ops.take_along_axis(logits, index, axis=1)
    cross_entropy = ops.binary_crossentropy(positive, sampled_logits, from_logits=True)
    classification = ops.sum(cross_entropy * weight) / count

    matched_gt = ops.take_along_axis(
        gt_boxes, ops.take_along_axis(matched, index, axis=1)[..., None], axis=1
    )
    target_deltas = encode_boxes(ops.take(anchors, index, axis=0), matched_gt)
    on = positive[..., None] > 0
    target_deltas = ops.stop_gradient(ops.where(on, target_deltas, 0.0))
    sampled_deltas = ops.take_along_axis(predicted, index[..., None], axis=1)
    difference = smooth_l1(sampled_deltas - target_deltas, smooth_l1_beta)
    box = ops.sum(ops.where(on, difference, 0.0)) / count
    return classification, box
