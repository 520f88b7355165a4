"""`FaceAnnotation`: one annotated face, as every reader returns it."""

import dataclasses

import numpy as np

# The reference's convention: a face box of side `scale * 200` pixels.
SCALE_UNIT = 200.0


class AnnotationError(ValueError):
    """An annotation file holds a row that cannot be a face of the expected scheme."""


@dataclasses.dataclass
class FaceAnnotation:
    """A face: its image, landmarks in image pixels, and its box as centre and scale.

    Attributes:
        image: path of the image file (or a name, when `encoded` holds the pixels).
        landmarks: `(K, 2)` float32 x, y in original-image pixels.
        center: `(2,)` box centre (x, y).
        scale: box side / 200 (before the crop's x1.25 margin).
        box_size: the face box side used as AFLW's NME normaliser, else None.
        attributes: names of the subsets the face belongs to (WFLW's flags).
        occluded: `(K,)` bool occlusion flags when the dataset has them (COFW), else None.
        encoded: PNG/JPEG bytes of the image when the dataset ships pixels, not files.
        source: `file:row` of the annotation, for error messages.

    Example:
    >>> import numpy as np
    >>> face = FaceAnnotation.from_box("a.jpg", np.zeros((19, 2)), (10, 20, 100, 100))
    >>> face.center.tolist(), face.scale
    ([60.0, 70.0], 0.5)
    """

    image: str
    landmarks: np.ndarray
    center: np.ndarray
    scale: float
    box_size: float | None = None
    attributes: frozenset = frozenset()
    occluded: np.ndarray | None = None
    encoded: bytes | None = None
    source: str = ""

    @classmethod
    def from_box(cls, image, landmarks, box, **kwargs):
        """A face whose centre/scale come from an `(x, y, w, h)` box (the larger side)."""
        x, y, w, h = (float(v) for v in box)
        center = np.array([x + w / 2, y + h / 2], dtype=np.float32)
        return cls(
            image, np.asarray(landmarks, np.float32), center, max(w, h) / SCALE_UNIT, **kwargs
        )

    @classmethod
    def from_landmarks(cls, image, landmarks, **kwargs):
        """A face whose box is the landmarks' bounding box (COFW's and `.pts` files' rule)."""
        landmarks = np.asarray(landmarks, np.float32)
        x0, y0 = np.floor(landmarks.min(axis=0))
        x1, y1 = np.ceil(landmarks.max(axis=0))
        center = np.array([(x0 + x1) / 2, (y0 + y1) / 2], dtype=np.float32)
        return cls(image, landmarks, center, float(max(x1 - x0, y1 - y0)) / SCALE_UNIT, **kwargs)

    @property
    def box(self):
        """The face box `(x, y, w, h)` (square, side `scale * 200`)."""
        side = self.scale * SCALE_UNIT
        return (self.center[0] - side / 2, self.center[1] - side / 2, side, side)


def check_points(values, num_landmarks, source):
    """`values` (flat x, y, x, y, ...) as a `(K, 2)` array, or an `AnnotationError`."""
    values = np.asarray(values, dtype=np.float32).reshape(-1)
    if values.size != 2 * num_landmarks:
        raise AnnotationError(
            f"Expected {num_landmarks} landmarks ({2 * num_landmarks} coordinates) at {source}. "
            f"Received: coordinates={values.size}"
        )
    if not np.all(np.isfinite(values)):
        raise AnnotationError(
            f"Non-finite landmark coordinates at {source}. Received: {values.tolist()[:6]}..."
        )
    return values.reshape(num_landmarks, 2)
