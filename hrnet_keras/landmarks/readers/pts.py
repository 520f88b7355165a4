"""300W's `.pts` files, one beside each image (`version: 1`, `n_points: 68`, `{ x y ... }`)."""

import os

from hrnet_keras.data.files import IMAGE_SUFFIXES, image_beside
from hrnet_keras.landmarks.annotations import AnnotationError, FaceAnnotation, check_points


def read_pts(path, num_landmarks=68):
    """The `(K, 2)` points of a `.pts` file.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.pts")
    >>> with open(path, "w") as f:
    ...     _ = f.write("version: 1\\nn_points: 2\\n{\\n1.5 2\\n3 4\\n}\\n")
    >>> read_pts(path, 2).tolist()
    [[1.5, 2.0], [3.0, 4.0]]
    """
    with open(path) as f:
        lines = [line.strip() for line in f]
    try:
        start, end = lines.index("{"), lines.index("}")
    except ValueError:
        raise AnnotationError(
            f"A .pts file lists its points between `{{` and `}}`. Received: {path}"
        ) from None
    header = dict(line.split(":", 1) for line in lines[:start] if ":" in line)
    declared = int(header.get("n_points", num_landmarks))
    if declared != num_landmarks:
        raise AnnotationError(
            f"Expected {num_landmarks} landmarks in {path}:2. Received: n_points={declared}"
        )
    values = []
    for offset, line in enumerate(lines[start + 1 : end], start=start + 2):
        try:
            values.extend(float(v) for v in line.split())
        except ValueError:
            raise AnnotationError(
                f"Non-numeric point at {path}:{offset}. Received: {line!r}"
            ) from None
    return check_points(values, num_landmarks, f"{path}:{start + 2}")


def read_pts_folder(folder, num_landmarks=68):
    """Every image of `folder` (recursively) that has a `.pts` beside it, as faces.

    The box is the landmarks' bounding box (the protocol the `.pts` releases imply).
    """
    faces = []
    for root, _, names in sorted(os.walk(folder)):
        for name in sorted(names):
            if not name.endswith(".pts"):
                continue
            pts = os.path.join(root, name)
            stem = pts[: -len(".pts")]
            image = image_beside(stem)
            if image is None:
                raise AnnotationError(
                    f"No image beside {pts}:1. Received: looked for {stem}{IMAGE_SUFFIXES}"
                )
            faces.append(
                FaceAnnotation.from_landmarks(
                    image, read_pts(pts, num_landmarks), source=f"{pts}:1"
                )
            )
    if not faces:
        raise AnnotationError(f"No .pts files under {folder!r}. Received: folder={folder!r}")
    return faces
