"""Confusion-matrix metrics: mIoU, per-class IoU, pixel accuracy, mean class accuracy."""

import keras
import numpy as np
from keras import ops

from hrnet_keras.segmentation.upsample import resize_logits


def confusion_matrix(labels, predictions, num_classes, ignore_label=255):
    """(num_classes, num_classes) int64 counts, rows = true class, columns = predicted.

    Keras ops: the streaming metric calls it in the graph, evaluation on NumPy arrays.
    Labels equal to `ignore_label` or outside `[0, num_classes)` are not counted.

    Example:
    >>> matrix = confusion_matrix(np.array([0, 1, 1, 255]), np.array([0, 1, 0, 1]), 2)
    >>> ops.convert_to_numpy(matrix).tolist()
    [[1, 0], [1, 1]]
    """
    labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
    predictions = ops.reshape(ops.cast(predictions, "int32"), (-1,))
    valid = ops.logical_and(
        ops.not_equal(labels, ignore_label),
        ops.logical_and(labels >= 0, labels < num_classes),
    )
    index = ops.where(valid, labels * num_classes + predictions, 0)
    counts = ops.bincount(index, weights=ops.cast(valid, "int64"), minlength=num_classes**2)
    return ops.reshape(ops.cast(counts, "int64"), (num_classes, num_classes))


def segmentation_scores(matrix, class_names=None):
    """The metrics of a confusion matrix, as a JSON-serialisable dict.

    IoU_c = TP / (TP + FP + FN). Classes absent from both labels and predictions have no IoU
    (None) and are left out of the means.

    Example:
    >>> scores = segmentation_scores(np.array([[3, 1], [0, 4]]))
    >>> round(scores["mIoU"], 4), scores["pixel_accuracy"], round(scores["mean_class_accuracy"], 4)
    (0.775, 0.875, 0.875)
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    tp = np.diag(matrix)
    true_count = matrix.sum(axis=1)
    predicted_count = matrix.sum(axis=0)
    union = true_count + predicted_count - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
        class_accuracy = np.where(true_count > 0, tp / true_count, np.nan)
    names = class_names or [str(i) for i in range(len(tp))]
    total = matrix.sum()

    def mean(values):
        return float(np.nanmean(values)) if np.any(~np.isnan(values)) else 0.0

    return {
        "mIoU": mean(iou),
        "pixel_accuracy": float(tp.sum() / total) if total else 0.0,
        "mean_class_accuracy": mean(class_accuracy),
        "per_class_iou": {name: None if np.isnan(v) else float(v) for name, v in zip(names, iou)},
        "num_pixels": int(total),
    }


@keras.saving.register_keras_serializable(package="hrnet_keras")
class SegmentationMeanIoU(keras.metrics.Metric):
    """Streaming mIoU of stride-4 logits (upsampled to the label size) against labels.

    `result()` is the mIoU over classes seen so far; `scores()` gives every metric of
    `segmentation_scores`. The confusion matrix sums across replicas.

    Example:
    >>> import numpy as np
    >>> metric = SegmentationMeanIoU(num_classes=2)
    >>> logits = np.stack([np.ones((1, 2, 2)), np.zeros((1, 2, 2))], axis=-1)  # class 0
    >>> metric.update_state(np.array([[[0, 0], [1, 255]]]), logits.astype("float32"))
    >>> round(float(metric.result()), 4)
    0.3333
    """

    def __init__(
        self, num_classes, ignore_label=255, align_corners=False, name="mean_iou", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.ignore_label = int(ignore_label)
        self.align_corners = bool(align_corners)
        self.matrix = self.add_variable(
            shape=(self.num_classes, self.num_classes),
            initializer="zeros",
            dtype="int64",
            aggregation="sum",
            name="confusion_matrix",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == 4:
            labels = labels[..., 0]
        logits = resize_logits(y_pred, ops.shape(labels)[1:3], self.align_corners)
        predictions = ops.argmax(logits, axis=-1)
        self.matrix.assign_add(
            confusion_matrix(labels, predictions, self.num_classes, self.ignore_label)
        )

    def result(self):
        matrix = ops.cast(self.matrix, "float64")
        tp = ops.diagonal(matrix)
        union = ops.sum(matrix, axis=0) + ops.sum(matrix, axis=1) - tp
        seen = ops.cast(union > 0, "float64")
        iou = tp / ops.maximum(union, 1.0)
        return ops.cast(ops.sum(iou * seen) / ops.maximum(ops.sum(seen), 1.0), "float32")

    def scores(self, class_names=None):
        """Every metric of `segmentation_scores`, from the matrix accumulated so far."""
        return segmentation_scores(ops.convert_to_numpy(self.matrix), class_names)

    def reset_state(self):
        self.matrix.assign(ops.zeros(self.matrix.shape, "int64"))

    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            ignore_label=self.ignore_label,
            align_corners=self.align_corners,
        )
        return config
