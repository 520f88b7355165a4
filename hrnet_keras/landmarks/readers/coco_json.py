"""COCO-keypoint style face annotations (`images`, `annotations` with `keypoints` x, y, v
triplets, `center`, `scale` and, for AFLW, `box_size`), as the sample folders and mmpose use."""

import numpy as np

from hrnet_keras.data.coco_index import CocoIndex
from hrnet_keras.landmarks.annotations import FaceAnnotation, check_points
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
    # Face boxes may overhang the image (the crop pads), so boxes are not checked here.
    index = CocoIndex.read(path, check_boxes=False)
    faces = []
    for i, annotation in enumerate(index.annotations):
        source = f"{path}:annotations[{i}]"
        keypoints = index.keypoints(annotation)
        if keypoints is None:
            keypoints = np.zeros((0, 3), np.float32)
        landmarks = check_points(keypoints[:, :2], num_landmarks, source)
        name = index.images[annotation["image_id"]]["file_name"]
        image = image_path(image_root, name, source)
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
