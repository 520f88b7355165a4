"""The detections of the R-CNN: class boxes decoded, thresholded and suppressed per class."""

from keras import ops

from hrnet_keras.detection.box_coder import clip_boxes, decode_boxes
from hrnet_keras.detection.nms import batched_nms
from hrnet_keras.detection.roi_head import RCNN_STDS
from hrnet_keras.detection.sampler import top_k_padded


def detections_from_rois(
    class_logits,
    box_deltas,
    rois,
    roi_valid,
    image_shape,
    *,
    score_threshold=0.05,
    iou_threshold=0.5,
    max_detections=100,
    pre_nms_top_k=5000,
    stds=RCNN_STDS,
):
    """Padded detections from the box head's outputs (mmdetection v2's `multiclass_nms`).

    Softmax over the classes, each class's box decoded from its own deltas and clipped;
    every (RoI, class) pair with score above `score_threshold` is a candidate, NMS runs
    within each class and the best `max_detections` are kept. Only the best `pre_nms_top_k`
    candidates enter NMS (mmdetection has no such limit; with scores summing to 1 per RoI
    it only binds when more than `pre_nms_top_k` scores pass the threshold).

    Args:
        class_logits: `(B, R, K + 1)`, background last.
        box_deltas: `(B, R, 4K)`, or `(B, R, 4)` shared by the classes (class-agnostic).
        rois: `(B, R, 4)` the proposals they were pooled from.
        roi_valid: `(B, R)` bool.
        image_shape: `(B, 2)` `(height, width)` to clip to.
        score_threshold: the least score of a detection (strictly above).
        iou_threshold: the per-class NMS threshold.
        max_detections: detections per image.
        pre_nms_top_k: candidates per image entering NMS, or None for all.
        stds: the box coder's stds of the deltas.

    Returns:
        A dict: `"boxes"` `(B, max_detections, 4)` xyxy, `"scores"` `(B, max_detections)`,
        `"labels"` int32 (-1 on padding), `"num_detections"` `(B,)` int32; padding rows
        have zero boxes and scores, valid rows come first in descending score.
    """
    batch, count = ops.shape(class_logits)[0], ops.shape(class_logits)[1]
    num_classes = class_logits.shape[-1] - 1
    probabilities = ops.softmax(ops.cast(class_logits, "float32"), axis=-1)[..., :num_classes]
    per_class = 1 if box_deltas.shape[-1] == 4 else num_classes
    deltas = ops.reshape(ops.cast(box_deltas, "float32"), (batch, count, per_class, 4))
    boxes = decode_boxes(ops.cast(rois, "float32")[:, :, None, :], deltas, stds)
    boxes = ops.broadcast_to(boxes, (batch, count, num_classes, 4))
    boxes = clip_boxes(ops.reshape(boxes, (batch, -1, 4)), image_shape)
    keep = ops.logical_and(probabilities > score_threshold, ops.cast(roi_valid, "bool")[..., None])
    scores = ops.reshape(ops.where(keep, probabilities, float("-inf")), (batch, -1))
    classes = ops.reshape(
        ops.broadcast_to(
            ops.arange(num_classes, dtype="int32")[None, None, :], (batch, count, num_classes)
        ),
        (batch, -1),
    )
    if pre_nms_top_k is not None:
        scores, top = top_k_padded(scores, pre_nms_top_k)
        boxes = ops.take_along_axis(boxes, top[..., None], axis=1)
        classes = ops.take_along_axis(classes, top, axis=1)
    index, valid = batched_nms(boxes, scores, classes, iou_threshold, max_detections)
    return {
        "boxes": ops.where(
            valid[..., None], ops.take_along_axis(boxes, index[..., None], axis=1), 0.0
        ),
        "scores": ops.where(valid, ops.take_along_axis(scores, index, axis=1), 0.0),
        "labels": ops.where(valid, ops.take_along_axis(classes, index, axis=1), -1),
        "num_detections": ops.sum(ops.cast(valid, "int32"), axis=-1),
    }
