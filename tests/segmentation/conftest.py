"""Dataset trees of every supported layout, made in tmp_path from the real VOC samples."""

import shutil

import numpy as np
import pytest
from PIL import Image
from segmentation_trees import TRAIN_ID_TO_LABEL_ID, VOC_STEMS, voc_pair


@pytest.fixture(scope="session")
def voc_dir(shared_data):
    return shared_data / "voc_seg"


@pytest.fixture
def cityscapes_dir(tmp_path, voc_dir):
    """`leftImg8bit/{split}/{city}/...` + `gtFine/.../*_gtFine_labelIds.png` of 3 samples."""
    root = tmp_path / "cityscapes"
    for i, stem in enumerate(VOC_STEMS):
        split, city = ("train", "aachen") if i < 2 else ("val", "frankfurt")
        image, mask = voc_pair(voc_dir, stem)
        label_ids = np.zeros_like(mask)  # 0 = unlabeled, ignored
        for voc_class in np.unique(mask):
            if voc_class < 19:
                label_ids[mask == voc_class] = TRAIN_ID_TO_LABEL_ID[int(voc_class)]
        name = f"{city}_{i:06d}_000019"
        (root / "leftImg8bit" / split / city).mkdir(parents=True, exist_ok=True)
        (root / "gtFine" / split / city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / "leftImg8bit" / split / city / f"{name}_leftImg8bit.png")
        Image.fromarray(label_ids).save(
            root / "gtFine" / split / city / f"{name}_gtFine_labelIds.png"
        )
    return root


@pytest.fixture
def lip_dir(tmp_path, voc_dir):
    """`TrainVal_images/{split}_images`, `TrainVal_parsing_annotations/...`, id lists."""
    root = tmp_path / "lip"
    (root / "TrainVal_images" / "train_images").mkdir(parents=True)
    (root / "TrainVal_parsing_annotations" / "train_segmentations").mkdir(parents=True)
    for stem in VOC_STEMS:
        shutil.copy(
            voc_dir / "JPEGImages" / f"{stem}.jpg", root / "TrainVal_images" / "train_images"
        )
        _, mask = voc_pair(voc_dir, stem)
        parts = np.where(mask == 255, 0, mask % 20).astype(np.uint8)
        Image.fromarray(parts).save(
            root / "TrainVal_parsing_annotations" / "train_segmentations" / f"{stem}.png"
        )
    (root / "TrainVal_images" / "train_id.txt").write_text("\n".join(VOC_STEMS[:2]) + "\n")
    return root
