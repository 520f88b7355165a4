"""The facts of each face-landmark dataset: points, target sigma, normaliser, flip pairs."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class LandmarkDataset:
    """One dataset's landmark scheme and its protocol.

    Attributes:
        name: `"wflw"`, `"300w"`, `"cofw"` or `"aflw"`.
        num_landmarks: points per face.
        sigma: standard deviation, in heatmap pixels, of the Gaussian targets.
        eye_corners: 0-based indices of the outer eye corners whose distance normalises the
            NME, or None when the face box size does (AFLW).

    Example:
    >>> dataset_info("wflw").eye_corners
    (60, 72)
    """

    name: str
    num_landmarks: int
    sigma: float
    eye_corners: tuple | None


DATASETS = {
    "wflw": LandmarkDataset("wflw", 98, 1.5, (60, 72)),
    "300w": LandmarkDataset("300w", 68, 1.0, (36, 45)),
    "cofw": LandmarkDataset("cofw", 29, 1.5, (8, 9)),
    "aflw": LandmarkDataset("aflw", 19, 1.5, None),
}

# WFLW's attribute flags, in the order of its annotation files' columns.
WFLW_ATTRIBUTES = ("pose", "expression", "illumination", "makeup", "occlusion", "blur")


def dataset_info(name):
    """The `LandmarkDataset` called `name` (case-insensitive)."""
    key = str(name).lower()
    if key not in DATASETS:
        raise ValueError(
            f"Unknown landmark dataset; expected one of {sorted(DATASETS)}. Received: name={name!r}"
        )
    return DATASETS[key]
