"""LIP (Look Into Person): `TrainVal_images/{split}_images/`, `TrainVal_parsing_annotations/`."""

import os

from hrnet_keras.data.files import list_images, require_file
from hrnet_keras.segmentation.readers.files import (
    SegmentationFiles,
    dataset_root,
    read_id_list,
)

CLASS_NAMES = (
    "background", "hat", "hair", "glove", "sunglasses", "upper clothes", "dress", "coat",
    "socks", "pants", "jumpsuits", "scarf", "skirt", "face", "left arm", "right arm",
    "left leg", "right leg", "left shoe", "right shoe",
)  # fmt: skip

# Left/right parts that trade places when the image is mirrored.
FLIP_PAIRS = ((14, 15), (16, 17), (18, 19))


def read_lip(data_dir, split):
    """The images of `split` (train/val) with their parsing masks (ids 0-19 as stored).

    `data_dir` is the LIP folder (holding `TrainVal_images/` and
    `TrainVal_parsing_annotations/`) or its parent. The split's ids come from
    `TrainVal_images/{split}_id.txt` when it exists, else from the image folder.
    """
    root = dataset_root(data_dir, "TrainVal_images", "lip")
    image_dir = os.path.join(root, "TrainVal_images", f"{split}_images")
    label_dir = os.path.join(root, "TrainVal_parsing_annotations", f"{split}_segmentations")
    id_list = os.path.join(root, "TrainVal_images", f"{split}_id.txt")
    if os.path.isfile(id_list):
        images = [
            require_file(os.path.join(image_dir, f"{i}.jpg"), "LIP image")
            for i in read_id_list(id_list)
        ]
    else:
        images = list_images(image_dir)
    labels = [
        require_file(
            os.path.join(label_dir, os.path.splitext(os.path.basename(p))[0] + ".png"), "LIP mask"
        )
        for p in images
    ]
    return SegmentationFiles(images, labels, class_names=CLASS_NAMES, flip_pairs=FLIP_PAIRS)
