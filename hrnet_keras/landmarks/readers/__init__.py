"""Readers of the face-landmark datasets' real annotation layouts, one file each.

`read_annotations` picks the reader from the path: `.csv` (the reference's CSVs: WFLW, 300W,
AFLW), `.txt` (WFLW's official lists), `.mat` (COFW), `.json` (COCO-keypoint style) or a
folder of images with `.pts` files beside them (300W).
"""

import os

from hrnet_keras.landmarks.readers.coco_json import read_coco_json
from hrnet_keras.landmarks.readers.cofw_mat import read_cofw_mat
from hrnet_keras.landmarks.readers.hrnet_csv import read_hrnet_csv
from hrnet_keras.landmarks.readers.pts import read_pts, read_pts_folder
from hrnet_keras.landmarks.readers.wflw_txt import read_wflw_txt

__all__ = [
    "read_annotations",
    "read_coco_json",
    "read_cofw_mat",
    "read_hrnet_csv",
    "read_pts",
    "read_pts_folder",
    "read_wflw_txt",
]


def read_annotations(path, num_landmarks, image_root=None, *, attributes=frozenset()):
    """The faces of one annotation file or `.pts` folder, read by the reader its name implies.

    Args:
        path: a `.csv`, `.txt`, `.mat` or `.json` file, or a folder of images and `.pts` files.
        num_landmarks: 98, 68, 29 or 19.
        image_root: the folder image names are relative to (default: the file's folder).
        attributes: subset names given to every face of the file.

    Returns:
        A list of `FaceAnnotation`.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return read_pts_folder(path, num_landmarks)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"The annotation file {path!r} does not exist. Received: path={path!r}"
        )
    root = os.path.dirname(path) if image_root is None else image_root
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".csv":
        return read_hrnet_csv(path, num_landmarks, root, attributes=attributes)
    if suffix == ".txt":
        return read_wflw_txt(path, root)
    if suffix == ".mat":
        return read_cofw_mat(path, "train" if "train" in os.path.basename(path).lower() else "test")
    if suffix == ".json":
        return read_coco_json(path, num_landmarks, root)
    raise ValueError(
        "Annotations are a .csv, .txt, .mat or .json file or a folder of .pts files. "
        f"Received: path={path!r}"
    )
