"""Cityscapes: `leftImg8bit/{split}/{city}/*_leftImg8bit.png`, `gtFine/.../*_labelIds.png`."""

import glob
import os

from hrnet_keras.data.files import require_file
from hrnet_keras.segmentation.readers.files import (
    SegmentationFiles,
    dataset_root,
    lookup_table,
)

CLASS_NAMES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
    "motorcycle", "bicycle",
)  # fmt: skip

# labelIds of the 30 annotated classes -> the 19 evaluated train ids (others are ignored).
LABEL_ID_TO_TRAIN_ID = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11,
    25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
}  # fmt: skip

# Official class weights of the HRNet Cityscapes configs, by train id.
CLASS_WEIGHTS = (
    0.8373, 0.918, 0.866, 1.0345, 1.0166, 0.9969, 0.9754, 1.0489, 0.8786, 1.0023, 0.9539,
    0.9843, 1.1116, 0.9037, 1.0865, 1.0955, 1.0865, 1.1529, 1.0507,
)  # fmt: skip

# The official colours of the 19 train ids.
PALETTE = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
    (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
    (0, 80, 100), (0, 0, 230), (119, 11, 32),
)  # fmt: skip


def read_cityscapes(data_dir, split, ignore_label=255):
    """The images of `split` (train/val/test) with their fine labelIds masks.

    `data_dir` is the Cityscapes folder (holding `leftImg8bit/` and `gtFine/`) or its parent.

    Returns:
        `SegmentationFiles` whose masks map to the 19 train ids, other labels to
        `ignore_label`.
    """
    root = dataset_root(data_dir, "leftImg8bit", "cityscapes")
    image_dir = os.path.join(root, "leftImg8bit", split)
    images = sorted(glob.glob(os.path.join(image_dir, "*", "*_leftImg8bit.png")))
    if not images:
        raise FileNotFoundError(
            f"No `{{city}}/*_leftImg8bit.png` images under {image_dir!r}. Received: split={split!r}"
        )
    labels = []
    for image in images:
        city = os.path.basename(os.path.dirname(image))
        stem = os.path.basename(image)[: -len("_leftImg8bit.png")]
        label = os.path.join(root, "gtFine", split, city, f"{stem}_gtFine_labelIds.png")
        labels.append(require_file(label, "Cityscapes mask"))
    return SegmentationFiles(
        images,
        labels,
        label_lut=lookup_table(LABEL_ID_TO_TRAIN_ID, ignore_label),
        class_names=CLASS_NAMES,
    )
