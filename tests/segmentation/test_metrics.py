"""Confusion-matrix metrics are exact against a direct numpy count."""

import numpy as np

from hrnet_keras.segmentation import SegmentationMeanIoU, confusion_matrix, segmentation_scores


def _direct_scores(labels, predictions, num_classes, ignore=255):
    """Per-class IoU and accuracies counted pixel by pixel, without a confusion matrix."""
    valid = labels != ignore
    ious, accuracies = [], []
    for c in range(num_classes):
        true_c, pred_c = (labels == c) & valid, (predictions == c) & valid
        union = (true_c | pred_c).sum()
        ious.append((true_c & pred_c).sum() / union if union else np.nan)
        accuracies.append((true_c & pred_c).sum() / true_c.sum() if true_c.sum() else np.nan)
    pixel_accuracy = ((labels == predictions) & valid).sum() / valid.sum()
    return np.array(ious), np.array(accuracies), pixel_accuracy


def test_scores_are_exact():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, size=(3, 40, 50))
    labels[rng.random(labels.shape) < 0.1] = 255
    labels[labels == 4] = 3  # class 4 absent from the labels...
    predictions = rng.integers(0, 6, size=labels.shape)
    predictions[predictions == 5] = 2  # ...class 5 from the predictions too
    labels[labels == 5] = 1
    matrix = confusion_matrix(labels, predictions, 6)
    scores = segmentation_scores(matrix, ["a", "b", "c", "d", "e", "f"])
    ious, accuracies, pixel_accuracy = _direct_scores(labels, predictions, 6)
    assert scores["per_class_iou"]["f"] is None  # neither labelled nor predicted
    got = np.array([np.nan if v is None else v for v in scores["per_class_iou"].values()])
    np.testing.assert_allclose(got, ious, rtol=0, atol=1e-15)
    assert scores["mIoU"] == float(np.nanmean(ious))
    assert scores["mean_class_accuracy"] == float(np.nanmean(accuracies))
    assert scores["pixel_accuracy"] == float(pixel_accuracy)
    assert scores["num_pixels"] == int((labels != 255).sum())


def test_streaming_metric_accumulates_the_same_matrix():
    rng = np.random.default_rng(1)
    metric = SegmentationMeanIoU(num_classes=4)
    total = np.zeros((4, 4), np.int64)
    for _ in range(3):
        logits = rng.normal(size=(2, 16, 16, 4)).astype(np.float32)
        labels = rng.integers(0, 4, size=(2, 16, 16))
        labels[rng.random(labels.shape) < 0.2] = 255
        metric.update_state(labels, logits)
        total += confusion_matrix(labels, logits.argmax(-1), 4)
    np.testing.assert_array_equal(np.asarray(metric.matrix), total)
    np.testing.assert_allclose(float(metric.result()), segmentation_scores(total)["mIoU"], 1e-6)
    assert metric.scores()["pixel_accuracy"] == segmentation_scores(total)["pixel_accuracy"]
    metric.reset_state()
    assert int(np.asarray(metric.matrix).sum()) == 0


def test_stride_four_logits_are_upsampled_before_the_argmax():
    metric = SegmentationMeanIoU(num_classes=2)
    logits = np.zeros((1, 2, 2, 2), np.float32)
    logits[0, :, :, 1] = [-5.0, 5.0]  # class 1 on the right, crossing 0 half-way
    labels = np.zeros((1, 8, 8), np.int32)
    labels[0, :, 4:] = 1
    metric.update_state(labels, logits)
    assert float(metric.result()) == 1.0
