"""WFLW's official annotations, `list_98pt_rect_attr_{train,test}.txt`.

Each line: 196 landmark coordinates (x0 y0 ... x97 y97), the face rectangle
(x_min y_min x_max y_max), six 0/1 attribute flags (pose, expression, illumination, make-up,
occlusion, blur) and the image path relative to `WFLW_images/`.
"""

import numpy as np

from hrnet_keras.landmarks.annotations import AnnotationError, FaceAnnotation, check_points
from hrnet_keras.landmarks.datasets import WFLW_ATTRIBUTES
from hrnet_keras.landmarks.readers.images import image_path

FIELDS = 196 + 4 + 6 + 1


def read_wflw_txt(path, image_root):
    """Reads every face of a WFLW annotation list; the box gives centre and scale.

    Args:
        path: `list_98pt_rect_attr_{train,test}.txt`.
        image_root: the `WFLW_images` folder.

    Returns:
        A list of `FaceAnnotation` whose `attributes` name the flags that are set.

    Example:
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> open(os.path.join(folder, "a.jpg"), "wb").close()
    >>> line = " ".join(["1"] * 196 + ["0", "0", "100", "80"] + ["1", "0", "0", "0", "1", "0"])
    >>> with open(os.path.join(folder, "list.txt"), "w") as f:
    ...     _ = f.write(line + " a.jpg\\n")
    >>> face = read_wflw_txt(os.path.join(folder, "list.txt"), folder)[0]
    >>> face.center.tolist(), face.scale, sorted(face.attributes)
    ([50.0, 40.0], 0.5, ['occlusion', 'pose'])
    """
    faces = []
    with open(path) as f:
        for line_number, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            source = f"{path}:{line_number}"
            if len(fields) != FIELDS:
                raise AnnotationError(
                    f"A WFLW line holds 196 coordinates, 4 box values, 6 flags and a path "
                    f"({FIELDS} fields) at {source}. Received: fields={len(fields)}"
                )
            try:
                numbers = np.array(fields[:-1], dtype=np.float32)
            except ValueError as e:
                raise AnnotationError(f"Non-numeric field at {source}. Received: {e}") from None
            x0, y0, x1, y1 = numbers[196:200]
            flags = numbers[200:206]
            faces.append(
                FaceAnnotation.from_box(
                    image_path(image_root, fields[-1], source),
                    check_points(numbers[:196], 98, source),
                    (x0, y0, x1 - x0, y1 - y0),
                    attributes=frozenset(a for a, v in zip(WFLW_ATTRIBUTES, flags) if v > 0),
                    source=source,
                )
            )
    return faces
