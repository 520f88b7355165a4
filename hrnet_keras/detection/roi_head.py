"""The R-CNN box head: RoIAlign over P2..P5, two shared fc layers, classes and class deltas.

Also its training side: the RoIs sampled from the proposals and the ground truth, and the
losses, as mmdetection v2's `StandardRoIHead` with a `Shared2FCBBoxHead`.
"""

import keras
from keras import ops

from hrnet_keras.detection.assigner import max_iou_assign
from hrnet_keras.detection.box_coder import encode_boxes, smooth_l1
from hrnet_keras.detection.replicas import mean_divisor
from hrnet_keras.detection.roi_align import DEFAULT_WINDOW, MultiLevelRoIAlign
from hrnet_keras.detection.sampler import random_sample

RCNN_STDS = (0.1, 0.1, 0.2, 0.2)


@keras.saving.register_keras_serializable(package="hrnet_keras")
class RoIBoxHead(keras.layers.Layer):
    """Shared2FC box head: RoIAlign, flatten, fc + ReLU twice, then `fc_cls` and `fc_reg`.

    `fc_cls` has `num_classes + 1` outputs with the background LAST (mmdetection's order);
    `fc_reg` has `4 * num_classes` class-specific deltas, class `k` in `4k .. 4k + 3`, or 4
    deltas shared by every class with `class_agnostic` (mmdetection's `reg_class_agnostic`,
    as Cascade R-CNN's stages have it). The pooled features flatten in `(height, width,
    channels)` order.

    Args:
        num_classes: object classes, background excluded.
        roi_size: RoIAlign output size.
        strides: strides of the pooled levels (P2..P5).
        finest_scale: `level_of_boxes`' scale of the finest level.
        fc_channels: width of the two shared fc layers.
        sampling_ratio: RoIAlign samples per bin (0: adaptive).
        aligned: RoIAlign's half-pixel alignment.
        roi_window: RoIAlign's static window `(short, long)` in feature cells (`roi_align`).
        roi_oversize: how RoIAlign pools RoIs larger than the window: `"auto"` (exactly,
            except under XLA), `"exact"` or `"approximate"` (see `MultiLevelRoIAlign`).
        class_agnostic: one set of 4 deltas for all classes instead of one per class.

    Call arguments:
        features: a list of `(B, H_l, W_l, C)` levels, one per stride.
        rois: `(B, R, 4)` xyxy boxes in input pixels.

    Returns:
        `(class_logits, box_deltas)`: `(B, R, num_classes + 1)` and `(B, R, 4 * num_classes)`
        (`(B, R, 4)` with `class_agnostic`).
    """

    def __init__(
        self,
        num_classes,
        *,
        roi_size=7,
        strides=(4, 8, 16, 32),
        finest_scale=56,
        fc_channels=1024,
        sampling_ratio=0,
        aligned=True,
        roi_window=DEFAULT_WINDOW,
        roi_oversize="auto",
        class_agnostic=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.class_agnostic = bool(class_agnostic)
        self.roi_size = roi_size
        self.strides = tuple(strides)
        self.finest_scale = finest_scale
        self.fc_channels = fc_channels
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned
        self.roi_align = MultiLevelRoIAlign(
            roi_size,
            self.strides,
            finest_scale,
            sampling_ratio,
            aligned,
            window=roi_window,
            oversize=roi_oversize,
            name="roi_align",
        )
        self.roi_window = self.roi_align.window
        self.roi_oversize = self.roi_align.oversize
        # mmdetection: Xavier-uniform shared fcs, N(0, 0.01) scores, N(0, 0.001) deltas.
        self.shared_fc1 = keras.layers.Dense(fc_channels, activation="relu", name="shared_fc1")
        self.shared_fc2 = keras.layers.Dense(fc_channels, activation="relu", name="shared_fc2")
        self.fc_cls = keras.layers.Dense(
            num_classes + 1,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
            name="fc_cls",
        )
        self.fc_reg = keras.layers.Dense(
            4 if self.class_agnostic else 4 * num_classes,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
            name="fc_reg",
        )

    def build(self, input_shape):
        feature_shapes, _ = input_shape
        channels = feature_shapes[0][-1]
        self.shared_fc1.build((None, None, self.roi_size * self.roi_size * channels))
        self.shared_fc2.build((None, None, self.fc_channels))
        self.fc_cls.build((None, None, self.fc_channels))
        self.fc_reg.build((None, None, self.fc_channels))
        self.built = True

    def call(self, inputs):
        features, rois = inputs
        pooled = self.roi_align(list(features), rois)
        batch, count = ops.shape(rois)[0], ops.shape(rois)[1]
        x = ops.reshape(pooled, (batch, count, -1))
        x = self.shared_fc2(self.shared_fc1(x))
        return self.fc_cls(x), self.fc_reg(x)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "roi_size": self.roi_size,
            "strides": self.strides,
            "finest_scale": self.finest_scale,
            "fc_channels": self.fc_channels,
            "sampling_ratio": self.sampling_ratio,
            "aligned": self.aligned,
            "roi_window": self.roi_window,
            "roi_oversize": self.roi_oversize,
            "class_agnostic": self.class_agnostic,
        }


def sample_rois(
    proposals,
    proposal_valid,
    targets,
    *,
    num_classes,
    seed=None,
    num_samples=512,
    positive_fraction=0.25,
    iou_threshold=0.5,
    stds=RCNN_STDS,
    proposal_ids=None,
    num_proposal_ids=None,
):
    """The RoIs that train the box head, with their class and box targets.

    The valid ground-truth boxes (crowd excluded) join the proposals as candidates; these are
    assigned with IoU 0.5 (no low-quality matches) and `num_samples` are drawn with up to
    `positive_fraction` positives.

    Args:
        proposals: `(B, P, 4)` RPN proposals.
        proposal_valid: `(B, P)` bool.
        targets: dict of `"boxes"` `(B, M, 4)`, `"labels"` `(B, M)` (-1 padding) and
            optionally `"crowd"` `(B, M)`.
        num_classes: the background label is `num_classes`.
        seed: a `keras.random.SeedGenerator` or `ExampleKeys` for the sampler.
        num_samples, positive_fraction: the sampler's settings.
        iou_threshold: positive from, negative below this IoU.
        stds: the box coder's stds of the targets.
        proposal_ids: optional `(B, P)` int identities of the proposals in
            `[0, num_proposal_ids)` (their anchors, `generate_proposals`), distinct among an
            image's valid proposals. The sampler then draws each candidate's random number
            for its identity (the ground truth's for their rows), not for its column: the
            same proposals in another order sample the same RoIs. Without them, two
            proposals whose scores are one rounding apart, and which another device or
            batch ranks the other way, swap their random numbers.
        num_proposal_ids: the number of proposal identities, with `proposal_ids`.

    Returns:
        A dict of `(B, num_samples)` tensors: `"rois"` `(..., 4)`, `"labels"` int32 (the
        background for negatives and padding), `"box_targets"` `(..., 4)` deltas with
        `stds`, `"positive"`, `"valid"` and `"from_ground_truth"` bool (the sampled
        ground-truth boxes, which Cascade R-CNN drops when it refines the RoIs) and
        `"gt_index"` int32, the matched ground-truth row; with `proposal_ids`, also
        `"proposal_ids"`, the sampled proposals' (0 on ground-truth and padding rows).
    """
    if (proposal_ids is None) != (num_proposal_ids is None):
        raise ValueError(
            "`proposal_ids` and `num_proposal_ids` come together. Received: proposal_ids="
            f"{'None' if proposal_ids is None else 'a tensor'}, "
            f"num_proposal_ids={num_proposal_ids!r}"
        )
    gt_boxes = ops.cast(targets["boxes"], "float32")
    gt_labels = ops.cast(targets["labels"], "int32")
    gt_valid = gt_labels >= 0
    crowd = targets.get("crowd")
    real = gt_valid if crowd is None else ops.logical_and(gt_valid, ops.logical_not(crowd))
    candidates = ops.concatenate([gt_boxes, ops.cast(proposals, "float32")], axis=1)
    candidate_valid = ops.concatenate([real, ops.cast(proposal_valid, "bool")], axis=1)
    labels, matched = max_iou_assign(
        candidates,
        gt_boxes,
        gt_valid,
        pos_iou_thr=iou_threshold,
        neg_iou_thr=iou_threshold,
        min_pos_iou=iou_threshold,
        match_low_quality=False,
        gt_crowd=crowd,
        candidate_valid=candidate_valid,
    )
    num_gt = ops.shape(gt_boxes)[1]
    ids = num_ids = None
    if proposal_ids is not None:
        # The ground truth's rows first, then the proposals' identities after them.
        proposal_ids = ops.cast(proposal_ids, "int32")
        gt_ids = ops.broadcast_to(ops.arange(num_gt, dtype="int32")[None, :], ops.shape(real))
        ids = ops.concatenate([gt_ids, proposal_ids + num_gt], axis=1)
        num_ids = num_gt + num_proposal_ids
    sample = random_sample(
        labels, num_samples, positive_fraction, seed=seed, ids=ids, num_ids=num_ids
    )
    index = sample["indices"]
    rois = ops.stop_gradient(ops.take_along_axis(candidates, index[..., None], axis=1))
    gt_index = ops.take_along_axis(matched, index, axis=1)
    positive = sample["positive"]
    roi_labels = ops.where(positive, ops.take_along_axis(gt_labels, gt_index, axis=1), num_classes)
    matched_boxes = ops.take_along_axis(gt_boxes, gt_index[..., None], axis=1)
    box_targets = ops.where(positive[..., None], encode_boxes(rois, matched_boxes, stds), 0.0)
    from_ground_truth = ops.logical_and(sample["valid"], index < num_gt)
    samples = {
        "rois": rois,
        "labels": roi_labels,
        "box_targets": ops.stop_gradient(box_targets),
        "positive": positive,
        "valid": sample["valid"],
        "from_ground_truth": from_ground_truth,
        "gt_index": gt_index,
    }
    if proposal_ids is not None:
        picked = ops.take_along_axis(proposal_ids, ops.maximum(index - num_gt, 0), axis=1)
        keep = ops.logical_and(sample["valid"], ops.logical_not(from_ground_truth))
        samples["proposal_ids"] = ops.where(keep, picked, 0)
    return samples


def rcnn_loss(class_logits, box_deltas, samples, num_classes, *, smooth_l1_beta=0.0):
    """Softmax cross-entropy over the sampled RoIs and L1 over the positives' class deltas.

    Both are divided by the number of sampled RoIs of the batch (mmdetection v2's
    `BBoxHead.loss`), under a distribution strategy the global batch's (`mean_divisor`).

    Args:
        class_logits: `(B, R, num_classes + 1)`.
        box_deltas: `(B, R, 4 * num_classes)`, or `(B, R, 4)` class-agnostic deltas.
        samples: `sample_rois`' dict.
        num_classes: object classes.
        smooth_l1_beta: the box loss is smooth L1 with this `beta` (`smooth_l1`); 0 is L1.

    Returns:
        `(classification_loss, box_loss)`, scalars.
    """
    weight = ops.cast(samples["valid"], "float32")
    count = mean_divisor(ops.sum(weight))
    labels = samples["labels"]
    cross_entropy = ops.sparse_categorical_crossentropy(labels, class_logits, from_logits=True)
    classification = ops.sum(cross_entropy * weight) / count
    picked = class_deltas(box_deltas, labels, num_classes)
    positive = samples["positive"][..., None]
    difference = smooth_l1(picked - samples["box_targets"], smooth_l1_beta)
    box = ops.sum(ops.where(positive, difference, 0.0)) / count
    return classification, box


def class_deltas(box_deltas, labels, num_classes):
    """The 4 deltas of each RoI's class: `(B, R, 4)` from `(B, R, 4 * num_classes)`
    (labels clipped to the object classes), or class-agnostic `(B, R, 4)` as they are."""
    if box_deltas.shape[-1] == 4:
        return box_deltas
    batch, rois = ops.shape(box_deltas)[0], ops.shape(box_deltas)[1]
    deltas = ops.reshape(box_deltas, (batch, rois, num_classes, 4))
    label_index = ops.clip(labels, 0, num_classes - 1)[..., None, None]
    return ops.take_along_axis(deltas, label_index, axis=2)[:, :, 0, :]
