"""Helpers of the segmentation tests: the real VOC samples, read as arrays."""

import numpy as np
from PIL import Image

from hrnet_keras.segmentation.readers.cityscapes import LABEL_ID_TO_TRAIN_ID

VOC_STEMS = ("2011_000003", "2011_000006", "2011_000025")

# A train id -> its Cityscapes labelId, so that a tree made from VOC masks holds real shapes.
TRAIN_ID_TO_LABEL_ID = {v: k for k, v in LABEL_ID_TO_TRAIN_ID.items()}


def voc_pair(voc_dir, stem):
    """(RGB uint8 image, uint8 VOC class mask) of one real sample."""
    image = np.asarray(Image.open(voc_dir / "JPEGImages" / f"{stem}.jpg").convert("RGB"))
    mask = np.asarray(Image.open(voc_dir / "SegmentationClassPNG" / f"{stem}.png"))
    return image, mask
