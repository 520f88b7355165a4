"""`CocoIndex` on the real sample COCO files: masks equal pycocotools' `annToMask` for
polygons and for compressed and uncompressed RLEs; lookups; errors that name the entry."""

import copy
import json

import numpy as np
import pytest

from hrnet_keras.data.coco_index import CocoFormatError, CocoIndex
from hrnet_keras.data.coco_masks import polygon_mask

FILES = ("coco_persons/test_coco.json", "coco_voc/annotations.json")


def _coco(path):
    from pycocotools.coco import COCO

    reference = COCO()
    reference.dataset = json.loads(path.read_text())
    reference.createIndex()
    return reference


def _uncompressed(mask):
    """Run lengths of a mask down its columns, starting with a run of 0s."""
    flat = mask.T.reshape(-1)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts = [0, *counts]
    return {"size": list(mask.shape), "counts": counts}


@pytest.mark.parametrize("name", FILES)
def test_masks_equal_pycocotools_for_polygons_and_rles(shared_data, name):
    from pycocotools import mask as coco_mask

    path = shared_data / name
    index = CocoIndex.read(path)
    reference = _coco(path)
    assert len(index.annotations) == len(reference.dataset["annotations"]) > 0
    for annotation in index.annotations:
        expected = reference.annToMask(annotation)
        assert expected.sum() > 0
        np.testing.assert_array_equal(index.mask(annotation), expected)
        compressed = coco_mask.encode(np.asfortranarray(expected))
        for rle in (compressed, dict(compressed, counts=compressed["counts"].decode())):
            as_rle = dict(annotation, segmentation=rle, iscrowd=1)
            np.testing.assert_array_equal(index.mask(as_rle), reference.annToMask(as_rle))
        as_list = dict(annotation, segmentation=_uncompressed(expected), iscrowd=1)
        np.testing.assert_array_equal(index.mask(as_list), reference.annToMask(as_list))
        np.testing.assert_array_equal(index.mask(as_list), expected)


def test_polygons_off_the_image_and_at_fractions_equal_pycocotools():
    from pycocotools import mask as coco_mask

    rng = np.random.default_rng(0)
    for _ in range(200):
        height, width = (int(v) for v in rng.integers(3, 30, 2))
        polygon = rng.uniform(-4, 34, 2 * int(rng.integers(3, 8))).round(int(rng.integers(0, 3)))
        rles = coco_mask.frPyObjects([polygon.tolist()], height, width)
        expected = coco_mask.decode(coco_mask.merge(rles))
        np.testing.assert_array_equal(polygon_mask(polygon, height, width), expected)


def test_lookups_of_the_person_sample(shared_data):
    path = shared_data / "coco_persons" / "test_coco.json"
    index = CocoIndex.read(path)
    reference = _coco(path)
    assert index.image_ids == [image["id"] for image in reference.dataset["images"]]
    for image_id in index.image_ids:
        expected = [a["id"] for a in reference.imgToAnns[image_id]]
        assert [a["id"] for a in index.annotations_of(image_id)] == expected
        crowd = [a["id"] for a in reference.imgToAnns[image_id] if a["iscrowd"]]
        kept = [a["id"] for a in index.annotations_of(image_id, crowd=False)]
        assert sorted(kept + crowd) == sorted(expected)
    assert index.category_ids == [1] and index.category_index(1) == 0
    annotation = reference.dataset["annotations"][0]
    assert index.annotation(annotation["id"]) is index.annotations[0]
    keypoints = index.keypoints(index.annotations[0])
    assert keypoints.shape == (17, 3)
    np.testing.assert_array_equal(keypoints.reshape(-1), annotation["keypoints"])
    assert index.image_path(785, "root").endswith("000000000785.jpg")


def test_categories_map_to_a_contiguous_index(shared_data):
    index = CocoIndex.read(shared_data / "coco_voc" / "annotations.json")
    assert index.category_ids == sorted(index.category_ids)
    for i, category_id in enumerate(index.category_ids):
        assert index.category_index(category_id) == i and index.category_id(i) == category_id
    with pytest.raises(KeyError, match="category_id=999"):
        index.category_index(999)


@pytest.fixture
def good(shared_data):
    return json.loads((shared_data / "coco_persons" / "test_coco.json").read_text())


def _write(tmp_path, data):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return path


def test_an_annotation_of_an_unknown_image_is_named(tmp_path, good):
    data = copy.deepcopy(good)
    data["annotations"][2]["image_id"] = 12345
    ann_id = data["annotations"][2]["id"]
    with pytest.raises(
        CocoFormatError, match=rf"bad\.json:annotations\[2\] \(id {ann_id}\).*image_id=12345"
    ):
        CocoIndex.read(_write(tmp_path, data))


def test_a_bbox_outside_the_image_is_named(tmp_path, good):
    data = copy.deepcopy(good)
    annotation = data["annotations"][1]
    image = next(i for i in data["images"] if i["id"] == annotation["image_id"])
    annotation["bbox"] = [image["width"] - 5.0, 0.0, 20.0, 10.0]
    with pytest.raises(CocoFormatError, match=r"bad\.json:annotations\[1\].*outside.*bbox="):
        CocoIndex.read(_write(tmp_path, data))
    annotation["bbox"] = [1.0, 1.0, -3.0, 4.0]
    with pytest.raises(CocoFormatError, match=r"annotations\[1\].*width and height"):
        CocoIndex.read(_write(tmp_path, data))
    # Face boxes may overhang the image: their readers switch the check off.
    annotation["bbox"] = [image["width"] - 5.0, 0.0, 20.0, 10.0]
    assert len(CocoIndex.read(_write(tmp_path, data), check_boxes=False).annotations) == 14


def test_an_unknown_category_is_named(tmp_path, good):
    data = copy.deepcopy(good)
    data["annotations"][0]["category_id"] = 91
    with pytest.raises(CocoFormatError, match=r"bad\.json:annotations\[0\].*category_id=91"):
        CocoIndex.read(_write(tmp_path, data))


def test_files_that_are_not_coco_are_named(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(CocoFormatError, match=r"broken\.json.*not valid json"):
        CocoIndex.read(path)
    path.write_text(json.dumps({"images": []}))
    with pytest.raises(CocoFormatError, match=r"`images` and `annotations`.*broken\.json"):
        CocoIndex.read(path)
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        CocoIndex.read(tmp_path / "missing.json")
    data = {"images": [{"id": 1, "height": 2, "width": 2}], "annotations": [
        {"id": 4, "image_id": 1, "keypoints": [1, 2]}]}  # fmt: skip
    with pytest.raises(CocoFormatError, match=r"annotations\[0\] \(id 4\).*values=2"):
        CocoIndex(data, "k.json")
