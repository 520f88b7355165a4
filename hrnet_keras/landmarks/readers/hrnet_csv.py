"""The reference code's CSV annotations (WFLW, 300W, AFLW).

Rows are `image_name, scale, [box_size,] center_w, center_h, x0, y0, x1, y1, ...` with a
header line; `scale` is the face box size / 200, and AFLW adds `box_size` (its normaliser).
"""

import csv

import numpy as np

from hrnet_keras.landmarks.annotations import AnnotationError, FaceAnnotation, check_points
from hrnet_keras.landmarks.readers.images import image_path


def read_hrnet_csv(path, num_landmarks, image_root, *, attributes=frozenset()):
    """Reads every face of an HRNet-style landmark CSV.

    Args:
        path: the CSV file.
        num_landmarks: points each row must hold.
        image_root: the folder `image_name` is relative to.
        attributes: subset names given to every face (a subset's own CSV).

    Returns:
        A list of `FaceAnnotation`.

    Example:
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> open(os.path.join(folder, "a.jpg"), "wb").close()
    >>> with open(os.path.join(folder, "f.csv"), "w") as f:
    ...     _ = f.write("image_name,scale,center_w,center_h,x0,y0\\na.jpg,0.5,50,60,40,45\\n")
    >>> face = read_hrnet_csv(os.path.join(folder, "f.csv"), 1, folder)[0]
    >>> face.scale, face.center.tolist(), face.landmarks.tolist()
    (0.5, [50.0, 60.0], [[40.0, 45.0]])
    """
    faces = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = [name.strip() for name in next(reader, [])]
        has_box_size = len(header) > 1 and header[2] == "box_size"
        first_point = 5 if has_box_size else 4
        for row_number, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            source = f"{path}:{row_number}"
            try:
                numbers = [float(v) for v in row[1:]]
            except ValueError as e:
                raise AnnotationError(f"Non-numeric field at {source}. Received: {e}") from None
            landmarks = check_points(numbers[first_point - 1 :], num_landmarks, source)
            center = np.array(numbers[first_point - 3 : first_point - 1], dtype=np.float32)
            faces.append(
                FaceAnnotation(
                    image=image_path(image_root, row[0].strip(), source),
                    landmarks=landmarks,
                    center=center,
                    scale=numbers[0],
                    box_size=numbers[1] if has_box_size else None,
                    attributes=frozenset(attributes),
                    source=source,
                )
            )
    return faces
