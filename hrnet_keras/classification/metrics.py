"""Top-k accuracy of a classifier's predictions: the streaming Keras metrics `fit` reports and
the summary `evaluate` returns."""

import keras
import numpy as np


def training_metrics(num_classes):
    """Top-1 and top-5 accuracy of one-hot (or mixed) targets, for `compile`.

    Example:
    >>> [m.name for m in training_metrics(10)]
    ['top1', 'top5']
    """
    return [
        keras.metrics.CategoricalAccuracy(name="top1"),
        keras.metrics.TopKCategoricalAccuracy(k=min(5, num_classes), name="top5"),
    ]


def classification_scores(top_classes, labels, class_names):
    """Top-1 / top-5 accuracies and errors, and the top-1 accuracy of each class.

    Args:
        top_classes: `(n, k)` class indices, most probable first (k >= 1; top-5 counts the
            first min(5, k)).
        labels: `(n,)` true class indices.
        class_names: one name per class.

    Returns:
        `{"top1", "top5", "top1_error", "top5_error"` (fractions in 0..1),
        `"mean_class_accuracy"` (over the classes with images), `"per_class_accuracy":
        {name: accuracy, or None for a class without images}, "num_images"}`.

    Example:
    >>> scores = classification_scores([[0, 1], [0, 1], [1, 0]], [0, 1, 1], ("a", "b", "c"))
    >>> scores["top1"], scores["top5"], scores["per_class_accuracy"]
    (0.6666666666666666, 1.0, {'a': 1.0, 'b': 0.5, 'c': None})
    """
    top_classes = np.asarray(top_classes, np.int64).reshape(len(labels), -1)
    labels = np.asarray(labels, np.int64)
    if not len(labels):
        raise ValueError("No images to score. Received: labels=[]")
    hits = top_classes == labels[:, None]
    top1 = hits[:, 0]
    top5 = hits[:, :5].any(axis=1)
    per_class = {}
    for index, name in enumerate(class_names):
        members = labels == index
        per_class[name] = float(top1[members].mean()) if members.any() else None
    present = [v for v in per_class.values() if v is not None]
    return {
        "top1": float(top1.mean()),
        "top5": float(top5.mean()),
        "top1_error": float(1.0 - top1.mean()),
        "top5_error": float(1.0 - top5.mean()),
        "mean_class_accuracy": float(np.mean(present)),
        "per_class_accuracy": per_class,
        "num_images": len(labels),
    }
