"""Pixel cross-entropy of the official HRNet segmentation code, with class weights and OHEM."""

import keras
from keras import ops

from hrnet_keras.segmentation.upsample import resize_logits


@keras.saving.register_keras_serializable(package="hrnet_keras")
class SegmentationLoss(keras.losses.Loss):
    """Cross-entropy of logits bilinearly upsampled to the label size; optional OHEM.

    Without OHEM it is PyTorch's `CrossEntropyLoss(weight, ignore_index)`: the weighted mean
    `sum(w[y] * nll) / sum(w[y])` over labelled pixels. With OHEM (the official
    `OhemCrossEntropy`) the labelled pixels of the batch are sorted by the softmax probability
    of their true class; the threshold is `max(ohem_threshold, p[min(min_kept, n - 1)])` and
    the loss is the plain mean of `w[y] * nll` over the pixels whose probability is below it.

    Args:
        num_classes: classes of the logits.
        ignore_label: label value that is skipped.
        class_weights: per-class weights, or None.
        ohem: mine hard pixels.
        ohem_threshold / ohem_min_kept: the official 0.9 / 131072.
        align_corners: of the bilinear upsampling.

    Example:
    >>> import numpy as np
    >>> loss = SegmentationLoss(num_classes=2)
    >>> logits = np.zeros((1, 2, 2, 2), "float32")
    >>> labels = np.array([[[0, 1, 255, 1]]], "int32").reshape(1, 2, 2)
    >>> round(float(loss(labels, logits)), 4)  # log(2)
    0.6931
    """

    def __init__(
        self,
        num_classes,
        ignore_label=255,
        class_weights=None,
        ohem=False,
        ohem_threshold=0.9,
        ohem_min_kept=131072,
        align_corners=False,
        name="segmentation_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if class_weights is not None and len(class_weights) != num_classes:
            raise ValueError(
                f"`class_weights` needs one weight per class ({num_classes}). "
                f"Received: class_weights={class_weights!r}"
            )
        self.num_classes = int(num_classes)
        self.ignore_label = int(ignore_label)
        self.class_weights = None if class_weights is None else tuple(map(float, class_weights))
        self.ohem = bool(ohem)
        self.ohem_threshold = float(ohem_threshold)
        self.ohem_min_kept = max(1, int(ohem_min_kept))
        self.align_corners = bool(align_corners)

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == 4:
            labels = labels[..., 0]
        logits = resize_logits(y_pred, ops.shape(labels)[1:3], self.align_corners)
        valid = ops.not_equal(labels, self.ignore_label)
        safe_labels = ops.where(valid, labels, 0)
        one_hot = ops.one_hot(safe_labels, self.num_classes, dtype="float32")
        log_probs = ops.log_softmax(logits, axis=-1)
        nll = -ops.sum(one_hot * log_probs, axis=-1)
        if self.class_weights is None:
            weights = ops.ones_like(nll)
        else:
            weights = ops.take(ops.convert_to_tensor(self.class_weights, "float32"), safe_labels)
        valid_f = ops.cast(valid, "float32")
        if not self.ohem:
            weights = weights * valid_f
            return ops.sum(weights * nll) / ops.maximum(ops.sum(weights), 1e-12)
        return self._ohem(nll * weights, log_probs, one_hot, valid)

    def _ohem(self, pixel_losses, log_probs, one_hot, valid):
        true_prob = ops.stop_gradient(ops.exp(ops.sum(one_hot * log_probs, axis=-1)))
        true_prob = ops.reshape(true_prob, (-1,))
        valid = ops.reshape(valid, (-1,))
        # Ignored pixels sort after every real probability (which is at most 1).
        ranked = ops.sort(ops.where(valid, true_prob, 2.0))
        num_valid = ops.sum(ops.cast(valid, "int32"))
        kth = ops.take(ranked, ops.maximum(ops.minimum(self.ohem_min_kept, num_valid - 1), 0))
        threshold = ops.maximum(kth, self.ohem_threshold)
        kept = ops.cast(ops.logical_and(valid, true_prob < threshold), "float32")
        pixel_losses = ops.reshape(pixel_losses, (-1,))
        return ops.sum(pixel_losses * kept) / ops.maximum(ops.sum(kept), 1.0)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            ignore_label=self.ignore_label,
            class_weights=self.class_weights,
            ohem=self.ohem,
            ohem_threshold=self.ohem_threshold,
            ohem_min_kept=self.ohem_min_kept,
            align_corners=self.align_corners,
        )
        return config
