"""The landmark protocol's metrics: NME, failure rate and AUC of the cumulative error curve."""

import numpy as np

from hrnet_keras.landmarks.datasets import dataset_info

THRESHOLDS = (0.08, 0.1)


def normalisers(landmarks, dataset, box_sizes=None):
    """Each face's NME normaliser: the outer-eye-corner distance, or AFLW's box size.

    Args:
        landmarks: `(N, K, 2)` ground truth.
        dataset: `"wflw"`, `"300w"`, `"cofw"` or `"aflw"`.
        box_sizes: `(N,)` face box sizes (AFLW only).

    Example:
    >>> gt = np.zeros((1, 29, 2)); gt[0, 9] = (3.0, 4.0)
    >>> normalisers(gt, "cofw").tolist()
    [5.0]
    """
    info = dataset_info(dataset)
    landmarks = np.asarray(landmarks, np.float64)
    if info.eye_corners is None:
        if box_sizes is None or any(b is None for b in np.atleast_1d(box_sizes)):
            raise ValueError(
                f"{info.name} normalises by the face box size; every face needs `box_size`. "
                f"Received: box_sizes={box_sizes}"
            )
        return np.asarray(box_sizes, np.float64)
    a, b = info.eye_corners
    return np.linalg.norm(landmarks[:, a] - landmarks[:, b], axis=-1)


def nme_per_face(predictions, landmarks, norms):
    """Mean point-to-point error of each face divided by its normaliser, `(N,)`.

    Example:
    >>> gt = np.zeros((1, 2, 2)); pred = gt + [[[3.0, 4.0], [0.0, 0.0]]]
    >>> nme_per_face(pred, gt, [10.0]).tolist()
    [0.25]
    """
    errors = np.linalg.norm(
        np.asarray(predictions, np.float64) - np.asarray(landmarks, np.float64), axis=-1
    )
    return errors.mean(axis=-1) / np.asarray(norms, np.float64)


def failure_rate(nmes, threshold):
    """Share of faces whose NME exceeds `threshold`.

    Example:
    >>> failure_rate([0.05, 0.09, 0.2], 0.08)
    0.6666666666666666
    """
    return float(np.mean(np.asarray(nmes) > threshold))


def auc(nmes, threshold):
    """Area under the cumulative error distribution on `[0, threshold]`, divided by `threshold`.

    The curve is the share of faces with NME <= e; each face adds `max(0, threshold - nme)`
    to the area, so the integral is exact.

    Example:
    >>> auc([0.0, 0.04, 0.5], 0.08)
    0.5
    """
    nmes = np.asarray(nmes, np.float64)
    return float(np.mean(np.maximum(0.0, threshold - nmes)) / threshold)


def summarize(nmes, thresholds=THRESHOLDS):
    """`{"nme", "fr_<t>", "auc_<t>", "count"}` of per-face NMEs, as plain floats.

    Example:
    >>> summarize([0.02, 0.2])["fr_0.1"]
    0.5
    """
    nmes = np.asarray(nmes, np.float64)
    result = {"nme": float(nmes.mean()) if nmes.size else float("nan"), "count": int(nmes.size)}
    for t in thresholds:
        result[f"fr_{t:g}"] = failure_rate(nmes, t)
        result[f"auc_{t:g}"] = auc(nmes, t)
    return result
