"""A VOC-style folder: `JPEGImages/`, `SegmentationClassPNG/` or `SegmentationClass/`, lists."""

import os

from hrnet_keras.data.files import image_beside, list_images, require_file
from hrnet_keras.segmentation.readers.files import (
    SegmentationFiles,
    read_id_list,
)

MASK_FOLDERS = ("SegmentationClassPNG", "SegmentationClass")

VOC_CLASS_NAMES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip


def _image_path(image_dir, stem):
    path = image_beside(os.path.join(image_dir, stem))
    if path is not None:
        return path
    raise FileNotFoundError(
        f"The image {os.path.join(image_dir, stem + '.jpg')!r} does not exist. "
        f"Received: image_id={stem!r}"
    )


def read_voc(data_dir, split, num_classes=None):
    """The images of `split` with their masks (palette or grey PNGs: value = class id).

    The split is `ImageSets/Segmentation/{split}.txt` when it exists, else every image in
    `JPEGImages/` (a user's small dataset). Class names come from `class_names.txt` (one a
    line) when present, else PASCAL VOC's 21, else `class_{i}`.

    Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from PIL import Image
    >>> from hrnet_keras.segmentation.readers import read_voc
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "JPEGImages").mkdir(); (root / "SegmentationClass").mkdir()
    >>> Image.new("RGB", (8, 6)).save(root / "JPEGImages" / "a.jpg")
    >>> Image.fromarray(np.zeros((6, 8), "uint8")).save(root / "SegmentationClass" / "a.png")
    >>> files = read_voc(root, "train", num_classes=2)
    >>> len(files), files.class_names
    (1, ('class_0', 'class_1'))
    """
    data_dir = os.fspath(data_dir)
    image_dir = os.path.join(data_dir, "JPEGImages")
    mask_dirs = [os.path.join(data_dir, m) for m in MASK_FOLDERS]
    mask_dir = next((m for m in mask_dirs if os.path.isdir(m)), None)
    if not os.path.isdir(image_dir) or mask_dir is None:
        raise FileNotFoundError(
            "A VOC-style dataset holds `JPEGImages/` and `SegmentationClassPNG/` or "
            f"`SegmentationClass/`. Received: data_dir={data_dir!r}"
        )
    split_list = os.path.join(data_dir, "ImageSets", "Segmentation", f"{split}.txt")
    if os.path.isfile(split_list):
        images = [_image_path(image_dir, stem) for stem in read_id_list(split_list)]
    else:
        images = list_images(image_dir)
    labels = [
        require_file(
            os.path.join(mask_dir, os.path.splitext(os.path.basename(p))[0] + ".png"), "mask"
        )
        for p in images
    ]
    return SegmentationFiles(images, labels, class_names=_class_names(data_dir, num_classes))


def _class_names(data_dir, num_classes):
    names_file = os.path.join(data_dir, "class_names.txt")
    if os.path.isfile(names_file):
        with open(names_file) as f:
            names = tuple(line.strip() for line in f if line.strip())
    elif num_classes in (None, len(VOC_CLASS_NAMES)):
        names = VOC_CLASS_NAMES
    else:
        names = ()
    if num_classes is not None and len(names) != num_classes:
        names = tuple(f"class_{i}" for i in range(num_classes))
    return names
