"""PASCAL-Context (VOC2010 + 59 context classes), the official HRNet layout and the PNG one.

The official HRNet code reads `pascal_ctx/VOCdevkit/VOC2010/trainval_merged.json` (PASCAL in
Detail annotations) with `JPEGImages/`, and caches masks of indices 0-59 (0 = background).
Here that cache is PNG masks in `SegmentationClassContext/` with split lists in
`ImageSets/SegmentationContext/`, the layout other toolkits also use; it is written once,
atomically, by `prepare_pascal_context` on the first read (before any input pipeline
starts), or may be provided directly.
"""

import json
import os

import numpy as np
from PIL import Image

from hrnet_keras.data.coco_masks import decode_rle
from hrnet_keras.data.files import require_file
from hrnet_keras.segmentation.readers.files import (
    SegmentationFiles,
    dataset_root,
    read_id_list,
)
from hrnet_keras.utils.atomic import atomic_path

# PASCAL in Detail category ids of the 59 evaluated classes; index in the sorted table
# (background 0 first) is the class index 0-59.
_CONTEXT_CATEGORY_IDS = (
    0, 2, 259, 260, 415, 324, 9, 258, 144, 18, 19, 22, 23, 397, 25, 284, 158, 159, 416, 33, 162,
    420, 454, 295, 296, 427, 44, 45, 46, 308, 59, 440, 445, 31, 232, 65, 354, 424, 68, 326, 72,
    458, 34, 207, 80, 355, 85, 347, 220, 349, 360, 98, 187, 104, 105, 366, 189, 368, 113, 115,
)  # fmt: skip
CONTEXT_CATEGORY_IDS = np.sort(np.array(_CONTEXT_CATEGORY_IDS))

CLASS_NAMES_60 = (
    "background", "aeroplane", "bag", "bed", "bedclothes", "bench", "bicycle", "bird", "boat",
    "book", "bottle", "building", "bus", "cabinet", "car", "cat", "ceiling", "chair", "cloth",
    "computer", "cow", "cup", "curtain", "dog", "door", "fence", "floor", "flower", "food",
    "grass", "ground", "horse", "keyboard", "light", "motorbike", "mountain", "mouse",
    "person", "plate", "platform", "pottedplant", "road", "rock", "sheep", "shelves",
    "sidewalk", "sign", "sky", "snow", "sofa", "table", "track", "train", "tree", "truck",
    "tvmonitor", "wall", "water", "window", "wood",
)  # fmt: skip

MASK_FOLDER = "SegmentationClassContext"
LIST_FOLDER = os.path.join("ImageSets", "SegmentationContext")


def _voc2010_root(data_dir):
    data_dir = os.fspath(data_dir)
    for sub in ("", "VOC2010", os.path.join("VOCdevkit", "VOC2010")):
        candidate = os.path.join(data_dir, sub) if sub else data_dir
        if os.path.isdir(os.path.join(candidate, "JPEGImages")):
            return candidate
    return dataset_root(data_dir, "JPEGImages", os.path.join("pascal_ctx", "VOCdevkit", "VOC2010"))


def context_mask(annotations, height, width):
    """Class indices 0-59 of one image from its PASCAL in Detail segmentation annotations.

    Later annotations paint over earlier ones (as the Detail API does); categories outside
    the 59 are background.

    Example:
    >>> ann = {"category_id": 2, "segmentation": {"size": [1, 2], "counts": [1, 1]}}
    >>> context_mask([ann], 1, 2).tolist()
    [[0, 1]]
    """
    category = np.zeros((height, width), dtype=np.int64)
    for ann in annotations:
        category[decode_rle(ann["segmentation"]) > 0] = ann["category_id"]
    index = np.searchsorted(CONTEXT_CATEGORY_IDS, category)
    index = np.minimum(index, len(CONTEXT_CATEGORY_IDS) - 1)
    known = CONTEXT_CATEGORY_IDS[index] == category
    return np.where(known, index, 0).astype(np.uint8)


def prepare_pascal_context(voc2010_dir):
    """Writes `SegmentationClassContext/*.png` and the train/val lists from the json.

    Returns:
        The number of masks written.
    """
    annotation_file = require_file(
        os.path.join(voc2010_dir, "trainval_merged.json"), "PASCAL-Context annotation file"
    )
    with open(annotation_file) as f:
        data = json.load(f)
    by_image = {}
    for ann in data["annos_segmentation"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    splits = {}
    # Whole folders or nothing: the lists (which mark the masks as ready) are renamed into
    # place last, so an interrupted or concurrent preparation never leaves a partial set.
    with atomic_path(os.path.join(voc2010_dir, MASK_FOLDER)) as masks:
        os.makedirs(masks)
        for image in data["images"]:
            stem = os.path.splitext(image["file_name"])[0]
            annotations = by_image.get(image["image_id"], [])
            mask = context_mask(annotations, image["height"], image["width"])
            Image.fromarray(mask).save(os.path.join(masks, stem + ".png"))
            splits.setdefault(image["phase"], []).append(stem)
    with atomic_path(os.path.join(voc2010_dir, LIST_FOLDER)) as lists:
        os.makedirs(lists)
        for phase, stems in splits.items():
            with open(os.path.join(lists, f"{phase}.txt"), "w") as f:
                f.write("".join(f"{s}\n" for s in sorted(stems)))
    return sum(len(s) for s in splits.values())


def read_pascal_context(data_dir, split, num_classes=59, ignore_label=255):
    """The images of `split` (train/val) with masks of 59 classes or 60 (with background).

    `data_dir` is `VOC2010/`, a folder above it (`pascal_ctx/VOCdevkit/VOC2010` of the official
    layout), or holds it. With 59 classes background is ignored and class k is train id k-1.
    """
    if num_classes not in (59, 60):
        raise ValueError(
            f"PASCAL-Context has 59 classes, or 60 with background. "
            f"Received: num_classes={num_classes!r}"
        )
    root = _voc2010_root(data_dir)
    split_list = os.path.join(root, LIST_FOLDER, f"{split}.txt")
    if not os.path.isfile(split_list):
        prepare_pascal_context(root)
    stems = read_id_list(split_list)
    images = [require_file(os.path.join(root, "JPEGImages", s + ".jpg"), "image") for s in stems]
    labels = [require_file(os.path.join(root, MASK_FOLDER, s + ".png"), "mask") for s in stems]
    if num_classes == 60:
        return SegmentationFiles(images, labels, class_names=CLASS_NAMES_60)
    lut = np.full(256, ignore_label, dtype=np.uint8)
    lut[1:60] = np.arange(59)
    return SegmentationFiles(images, labels, label_lut=lut, class_names=CLASS_NAMES_60[1:])
