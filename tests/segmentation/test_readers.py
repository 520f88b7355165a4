"""Readers of every layout, on trees made from the real VOC samples; clear bad-file errors."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image
from segmentation_trees import VOC_STEMS, voc_pair

from hrnet_keras.data.coco_masks import decode_rle
from hrnet_keras.data.images import read_pair
from hrnet_keras.segmentation.readers import (
    read_cityscapes,
    read_lip,
    read_pascal_context,
    read_split,
    read_voc,
)
from hrnet_keras.segmentation.readers.pascal_context import CONTEXT_CATEGORY_IDS


def test_voc_reads_real_samples_without_split_lists(voc_dir):
    files = read_voc(voc_dir, "train")
    assert [p.rsplit("/", 1)[-1] for p in files.images] == [f"{s}.jpg" for s in VOC_STEMS]
    assert files.num_classes == 21 and files.class_names[15] == "person"
    image, label = read_pair(files.images[0], files.labels[0])
    assert image.shape == (338, 500, 3) and label.shape == (338, 500)
    assert set(np.unique(label)) == {0, 5, 15, 255}


def test_voc_split_list_and_segmentation_class_folder(tmp_path, voc_dir):
    shutil.copytree(voc_dir / "JPEGImages", tmp_path / "JPEGImages")
    shutil.copytree(voc_dir / "SegmentationClassPNG", tmp_path / "SegmentationClass")
    (tmp_path / "ImageSets" / "Segmentation").mkdir(parents=True)
    (tmp_path / "ImageSets" / "Segmentation" / "val.txt").write_text("2011_000025\n")
    files = read_voc(tmp_path, "val")
    assert len(files) == 1 and files.labels[0].endswith("SegmentationClass/2011_000025.png")


def test_cityscapes_maps_label_ids_to_train_ids(cityscapes_dir, voc_dir):
    train = read_cityscapes(cityscapes_dir, "train")
    assert len(train) == 2 and train.num_classes == 19
    _, label = read_pair(train.images[0], train.labels[0], train.label_lut)
    _, voc_mask = voc_pair(voc_dir, VOC_STEMS[0])
    expected = np.where(voc_mask < 19, voc_mask, 255)
    np.testing.assert_array_equal(label, expected)
    # The parent folder of `cityscapes/` works too (the official `data/` root).
    assert len(read_split("cityscapes", cityscapes_dir.parent, "val")) == 1


def test_lip_id_list_and_folder_listing(lip_dir):
    assert len(read_lip(lip_dir, "train")) == 2
    (lip_dir / "TrainVal_images" / "train_id.txt").unlink()
    files = read_lip(lip_dir.parent, "train")
    assert len(files) == 3 and files.flip_pairs == ((14, 15), (16, 17), (18, 19))


def _rle(mask):
    """Uncompressed COCO RLE (column-major runs, starting with zeros)."""
    flat = np.asarray(mask, np.uint8).T.ravel()
    changes = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
    return {"size": list(mask.shape), "counts": np.diff(np.concatenate([[0], changes])).tolist()}


def test_coco_rle_matches_pycocotools():
    mask_api = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(0)
    mask = (rng.random((37, 23)) > 0.6).astype(np.uint8)
    encoded = mask_api.encode(np.asfortranarray(mask))
    np.testing.assert_array_equal(decode_rle(encoded), mask)
    np.testing.assert_array_equal(decode_rle(_rle(mask)), mask)


def test_pascal_context_official_json_layout(tmp_path, voc_dir):
    root = tmp_path / "pascal_ctx" / "VOCdevkit" / "VOC2010"
    (root / "JPEGImages").mkdir(parents=True)
    images, annotations = [], []
    # VOC person (15) -> Detail category 284 (person), chair (9) -> 72, unknown 999 -> bg.
    to_detail = {15: 284, 9: 72, 5: 999}
    for i, stem in enumerate(VOC_STEMS):
        shutil.copy(voc_dir / "JPEGImages" / f"{stem}.jpg", root / "JPEGImages")
        _, mask = voc_pair(voc_dir, stem)
        phase = "train" if i < 2 else "val"
        images.append(
            {"image_id": i, "file_name": f"{stem}.jpg", "height": mask.shape[0],
             "width": mask.shape[1], "phase": phase}
        )  # fmt: skip
        for voc_class, category in to_detail.items():
            if (mask == voc_class).any():
                annotations.append(
                    {"id": len(annotations), "image_id": i, "category_id": category,
                     "segmentation": _rle(mask == voc_class)}
                )  # fmt: skip
    data = {"images": images, "annos_segmentation": annotations, "categories": []}
    (root / "trainval_merged.json").write_text(json.dumps(data))

    files = read_pascal_context(tmp_path, "train", num_classes=59)
    assert len(files) == 2 and files.num_classes == 59
    _, label = read_pair(files.images[0], files.labels[0], files.label_lut)
    _, mask = voc_pair(voc_dir, VOC_STEMS[0])
    person = int(np.searchsorted(CONTEXT_CATEGORY_IDS, 284)) - 1
    assert files.class_names[person] == "person"
    np.testing.assert_array_equal(label == person, mask == 15)
    assert (label[(mask != 15)] == 255).all()  # background and unknown are ignored

    with_background = read_pascal_context(root, "val", num_classes=60)
    _, label = read_pair(with_background.images[0], with_background.labels[0])
    _, mask = voc_pair(voc_dir, VOC_STEMS[2])
    assert with_background.class_names[0] == "background" and set(np.unique(label)) == {0}


def test_missing_mask_names_the_file(tmp_path, voc_dir):
    shutil.copytree(voc_dir / "JPEGImages", tmp_path / "JPEGImages")
    shutil.copytree(voc_dir / "SegmentationClassPNG", tmp_path / "SegmentationClassPNG")
    (tmp_path / "SegmentationClassPNG" / "2011_000006.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"2011_000006\.png"):
        read_voc(tmp_path, "train")


def test_missing_image_of_a_split_list_names_the_file(tmp_path, voc_dir):
    shutil.copytree(voc_dir / "JPEGImages", tmp_path / "JPEGImages")
    shutil.copytree(voc_dir / "SegmentationClassPNG", tmp_path / "SegmentationClassPNG")
    (tmp_path / "ImageSets" / "Segmentation").mkdir(parents=True)
    (tmp_path / "ImageSets" / "Segmentation" / "train.txt").write_text("2011_999999\n")
    with pytest.raises(FileNotFoundError, match="2011_999999"):
        read_voc(tmp_path, "train")


def test_unreadable_image_and_mismatched_mask_name_the_file(tmp_path, voc_dir):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    mask = voc_dir / "SegmentationClassPNG" / "2011_000003.png"
    with pytest.raises(ValueError, match=r"broken\.jpg"):
        read_pair(str(broken), str(mask))
    other = voc_dir / "JPEGImages" / "2011_000006.jpg"  # 500x375, the mask is 500x338
    with pytest.raises(ValueError, match=r"2011_000003.png.*500x338.*2011_000006.jpg.*500x375"):
        read_pair(str(other), str(mask))
    rgb_mask = tmp_path / "rgb.png"
    Image.open(mask).convert("RGB").save(rgb_mask)
    with pytest.raises(ValueError, match=r"rgb\.png.*colour image"):
        read_pair(str(voc_dir / "JPEGImages" / "2011_000003.jpg"), str(rgb_mask))
