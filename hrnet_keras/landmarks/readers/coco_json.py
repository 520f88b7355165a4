"""COCO-keypoint style face annotations (`images`, `annotations` with `keypoints` x, y, v
triplets, `center`, `scale` and, for AFLW, `box_size`), as the sample folders and mmpose use."""

import json

import numpy as np

from hrnet_keras.landmarks.annotations import AnnotationError, FaceAnnotation, check_points
from hrnet_keras.landmarks.readers.images import image_path


def read_coco_json(path, num_landmarks, image_root):
    """Reads every face of a COCO-keypoint json; without `center`/`scale` the `bbox` gives them.

    Example:
    >>> import json, os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> open(os.path.join(folder, "a.jpg"), "wb").close()
    >>> data = {"images": [{"id": 1, "file_name": "a.jpg"}],
    ...         "annotations": [{"image_id": 1, "keypoints": [5, 6, 1], "bbox": [0, 0, 20, 10]}]}
    >>> with open(os.path.join(folder, "a.json"), "w") as f:
    ...     json.dump(data, f)
    >>> face = read_coco_json(os.path.join(folder, "a.json"), 1, folder)[0]
    >>> face.center.tolist(), face.scale
    ([10.0, 5.0], 0.1)
    """
    with open(path) as f:
        data = json.load(f)
    names = {image["id"]: image["file_name"] for image in data.get("images", [])}
    faces = []
    for i, annotation in enumerate(data.get("annotations", [])):
        source = f"{path}:annotations[{i}]"
        if annotation.get("image_id") not in names:
            raise AnnotationError(
                f"Unknown image_id at {source}. Received: image_id={annotation.get('image_id')}"
            )
        keypoints = np.asarray(annotation.get("keypoints", []), dtype=np.float32)
        if keypoints.size % 3:
            raise AnnotationError(
                f"Keypoints are x, y, v triplets at {source}. Received: values={keypoints.size}"
            )
        landmarks = check_points(keypoints.reshape(-1, 3)[:, :2], num_landmarks, source)
        image = image_path(image_root, names[annotation["image_id"]], source)
        box_size = annotation.get("box_size")
        if "center" in annotation and "scale" in annotation:
            face = FaceAnnotation(
                image,
                landmarks,
                np.asarray(annotation["center"], np.float32),
                float(annotation["scale"]),
            )
        else:
            face = FaceAnnotation.from_box(image, landmarks, annotation["bbox"])
        face.box_size = None if box_size is None else float(box_size)
        face.source = source
        faces.append(face)
    return faces
