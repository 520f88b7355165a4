"""COFW's MATLAB release: `COFW_train_color.mat` (`IsTr`, `phisTr`) and `COFW_test_color.mat`
(`IsT`, `phisT`).

`Is*` is a cell array of images (H x W grey or H x W x 3 uint8); `phis*` has one row of 87
values per face: 29 x coordinates, 29 y coordinates, then 29 occlusion flags. Coordinates are
MATLAB's (1-based) pixel coordinates; they are kept as the file gives them, like the reference.
Files saved as MATLAB v5/v7 are read with `scipy.io.loadmat`; the v7.3 (HDF5) files that the
colour release ships are read with `h5py`, transposed back to MATLAB's row-major view. The box
is the landmarks' bounding box.
"""

import io

import numpy as np
from PIL import Image

from hrnet_keras.landmarks.annotations import AnnotationError, FaceAnnotation, check_points

NUM_LANDMARKS = 29
KEYS = {"train": ("IsTr", "phisTr"), "test": ("IsT", "phisT")}


def _load_scipy(path, image_key, shape_key):
    import scipy.io

    mat = scipy.io.loadmat(path)
    if image_key not in mat or shape_key not in mat:
        return None
    images = [np.asarray(cell) for cell in mat[image_key].reshape(-1)]
    return images, np.asarray(mat[shape_key], dtype=np.float64)


def _load_hdf5(path, image_key, shape_key):
    import h5py

    with h5py.File(path, "r") as f:
        if image_key not in f or shape_key not in f:
            return None
        # MATLAB v7.3 stores arrays column-major: every array reads transposed.
        images = [np.asarray(f[ref]).T for ref in np.asarray(f[image_key]).reshape(-1)]
        return images, np.asarray(f[shape_key], dtype=np.float64).T


def _encode_png(pixels, source):
    pixels = np.asarray(pixels)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    if pixels.ndim != 3 or pixels.shape[-1] != 3:
        raise AnnotationError(
            f"Expected an H x W or H x W x 3 image at {source}. Received: shape={pixels.shape}"
        )
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def read_cofw_mat(path, split="test"):
    """Reads the faces of a COFW `.mat` file.

    Args:
        path: `COFW_train_color.mat` or `COFW_test_color.mat` (or the grey release).
        split: `"train"` (`IsTr`, `phisTr`) or `"test"` (`IsT`, `phisT`).

    Returns:
        A list of `FaceAnnotation` with PNG-encoded pixels in `encoded` and `occluded` flags.

    Example:
    >>> import os, tempfile, numpy as np, scipy.io
    >>> path = os.path.join(tempfile.mkdtemp(), "cofw.mat")
    >>> images = np.empty((1, 1), dtype=object); images[0, 0] = np.zeros((40, 30), np.uint8)
    >>> phis = np.concatenate([np.arange(29.0), np.arange(29.0) + 5, np.zeros(29)])[None]
    >>> scipy.io.savemat(path, {"IsT": images, "phisT": phis})
    >>> face = read_cofw_mat(path, "test")[0]
    >>> face.landmarks[3].tolist(), face.center.tolist(), face.scale
    ([3.0, 8.0], [14.0, 19.0], 0.14)
    """
    if split not in KEYS:
        raise ValueError(f"`split` must be one of {sorted(KEYS)}. Received: split={split!r}")
    image_key, shape_key = KEYS[split]
    try:
        loaded = _load_scipy(path, image_key, shape_key)
    except NotImplementedError:  # MATLAB v7.3 is HDF5, which scipy.io does not read.
        loaded = _load_hdf5(path, image_key, shape_key)
    if loaded is None:
        raise AnnotationError(
            f"A COFW {split} file holds `{image_key}` and `{shape_key}`. Received: path={path!r}"
        )
    images, shapes = loaded
    if shapes.ndim != 2 or shapes.shape[1] != 3 * NUM_LANDMARKS or len(shapes) != len(images):
        raise AnnotationError(
            f"Expected {len(images)} rows of {3 * NUM_LANDMARKS} values in `{shape_key}` of "
            f"{path}. Received: shape={shapes.shape}"
        )
    faces = []
    for i, (pixels, row) in enumerate(zip(images, shapes)):
        source = f"{path}:{shape_key}[{i}]"
        points = np.stack([row[:NUM_LANDMARKS], row[NUM_LANDMARKS : 2 * NUM_LANDMARKS]], axis=1)
        faces.append(
            FaceAnnotation.from_landmarks(
                f"{path}#{i}",
                check_points(points, NUM_LANDMARKS, source),
                occluded=row[2 * NUM_LANDMARKS :] > 0,
                encoded=_encode_png(pixels, source),
                source=source,
            )
        )
    return faces
