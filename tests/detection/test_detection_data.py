"""The detection reader and its config: COCO boxes as mmdet v2 parses them, on real samples."""

import dataclasses
import json
import os

import numpy as np
import pytest

from hrnet_keras.data.coco_index import CocoFormatError, CocoIndex
from hrnet_keras.detection.reader import (
    DetectionDataConfig,
    DetectionReader,
    read_detection_split,
)


@pytest.fixture(scope="module")
def persons_dir(shared_data):
    return shared_data / "coco_persons"


@pytest.fixture(scope="module")
def voc_dir(shared_data):
    return shared_data / "coco_voc"


def _json_config(annotations, images=""):
    return DetectionDataConfig(
        layout="json",
        train_annotations=annotations,
        train_images=images,
        eval_annotations=annotations,
        eval_images=images,
    )


def _load(path):
    with open(path) as f:
        return json.load(f)


def _write(folder, data, name="boxes.json"):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        json.dump(data, f)
    return path


def _xyxy(annotations):
    return np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in annotations)])


def test_config_round_trips_through_json_and_checks_its_fields():
    config = DetectionDataConfig(pad_shape=(800, 1344), min_size=600, flip=0.0)
    data = json.loads(json.dumps(dataclasses.asdict(config)))
    assert DetectionDataConfig(**data) == config
    assert config.canvas == (800, 1344)
    assert DetectionDataConfig().canvas == (1344, 1344)
    with pytest.raises(ValueError, match="layout='voc'"):
        DetectionDataConfig(layout="voc")
    with pytest.raises(ValueError, match=r"pad_shape=\(800, 1333\)"):
        DetectionDataConfig(pad_shape=(800, 1333))
    with pytest.raises(ValueError, match=r"flip=1\.5"):
        DetectionDataConfig(flip=1.5)
    with pytest.raises(ValueError, match="min_size=900, max_size=800"):
        DetectionDataConfig(min_size=900, max_size=800)


def test_layout_paths():
    coco = DetectionDataConfig()
    assert coco.paths("root", training=True) == (
        os.path.join("root", "annotations/instances_train2017.json"),
        os.path.join("root", "train2017"),
    )
    assert coco.paths("root", training=False)[1] == os.path.join("root", "val2017")
    moved = dataclasses.replace(coco, eval_images="/elsewhere/val")
    assert moved.paths("root", training=False)[1] == "/elsewhere/val"
    with pytest.raises(ValueError, match="train_annotations=None"):
        DetectionDataConfig(layout="json").paths("root", training=True)


def test_coco2017_layout_reads_the_official_file_names(tmp_path, persons_dir):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "val2017").mkdir()
    data = _load(persons_dir / "test_coco.json")
    _write(tmp_path / "annotations", data, "instances_val2017.json")
    for image in data["images"]:
        os.symlink(persons_dir / image["file_name"], tmp_path / "val2017" / image["file_name"])
    split = DetectionReader(DetectionDataConfig(), tmp_path).split(training=False)
    assert split.image_ids.tolist() == [image["id"] for image in data["images"]]
    assert all(os.path.isfile(f) for f in split.files)
    assert split.files[0] == os.path.join(str(tmp_path), "val2017", "000000000785.jpg")


def test_persons_boxes_are_xyxy_pixels_of_the_json(persons_dir):
    data = _load(persons_dir / "test_coco.json")
    split = DetectionReader(_json_config("test_coco.json"), persons_dir).split(training=True)
    assert len(split) == 4 and split.num_classes == 1 and split.class_names == ["person"]
    np.testing.assert_allclose(split.boxes, _xyxy(data["annotations"]), rtol=0, atol=1e-4)
    assert split.boxes.dtype == np.float32 and split.labels.dtype == np.int32
    assert split.labels.tolist() == [0] * 14 and not split.crowd.any()
    for i, image in enumerate(data["images"]):
        mine = [a for a in data["annotations"] if a["image_id"] == image["id"]]
        np.testing.assert_allclose(split.targets(i)["boxes"], _xyxy(mine), atol=1e-4)
        assert split.sizes[i].tolist() == [image["height"], image["width"]]
    assert split.most_boxes() == (5, 2)


def test_voc_labels_follow_the_coco_index_and_map_back(voc_dir):
    data = _load(voc_dir / "annotations.json")
    split = DetectionReader(_json_config("annotations.json"), voc_dir).split(training=True)
    index = CocoIndex(data)
    expected = [index.category_index(a["category_id"]) for a in data["annotations"]]
    assert split.labels.tolist() == expected
    assert split.category_ids(split.labels).tolist() == [
        a["category_id"] for a in data["annotations"]
    ]
    # The json's file names carry their folder: the image root is the dataset folder itself.
    assert all(os.path.isfile(f) for f in split.files)


def test_sparse_category_ids_become_contiguous_labels(tmp_path, persons_dir):
    data = _load(persons_dir / "test_coco.json")
    data["categories"] = [{"id": 90, "name": "toothbrush"}, {"id": 3, "name": "car"}]
    data["categories"].append({"id": 1, "name": "person"})
    ids = [1, 3, 90]
    for i, annotation in enumerate(data["annotations"]):
        annotation["category_id"] = ids[i % 3]
    split = read_detection_split(_write(tmp_path, data), persons_dir)
    assert split.class_names == ["person", "car", "toothbrush"]
    assert split.labels.tolist() == [i % 3 for i in range(14)]
    padded = np.array([[2, 0, -1], [1, -1, -1]])
    assert split.category_ids(padded).tolist() == [[90, 1, -1], [3, -1, -1]]


def test_crowd_flags_are_kept_and_degenerate_boxes_dropped(tmp_path, persons_dir):
    data = _load(persons_dir / "test_coco.json")
    annotations = data["annotations"]
    annotations[1]["iscrowd"] = 1
    annotations[2]["bbox"][2] = 0.9  # narrower than a pixel
    annotations[3]["bbox"][3] = 0.5  # lower than a pixel
    annotations[5]["area"] = 0
    split = read_detection_split(_write(tmp_path, data), persons_dir)
    kept = [a for i, a in enumerate(annotations) if i not in (2, 3, 5)]
    np.testing.assert_allclose(split.boxes, _xyxy(kept), atol=1e-4)
    assert split.crowd.tolist() == [i == 1 for i in range(len(kept))]
    assert np.diff(split.row_splits).tolist() == [1, 1, 4, 5]


def test_images_without_annotations_are_kept_or_dropped_by_option(tmp_path, persons_dir):
    data = _load(persons_dir / "test_coco.json")
    # Image 785 has no annotation; image 40083 keeps its three, all degenerate (mmdet keeps
    # such an image in training, without boxes).
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] != 785]
    for annotation in data["annotations"]:
        if annotation["image_id"] == 40083:
            annotation["bbox"][2] = 0.5
    _write(tmp_path, data)
    config = _json_config("boxes.json", str(persons_dir))
    dropped = DetectionReader(config, tmp_path).split(training=True)
    assert dropped.image_ids.tolist() == [40083, 196141, 197388]
    assert np.diff(dropped.row_splits).tolist() == [0, 5, 5]
    evaluation = DetectionReader(config, tmp_path).split(training=False)
    assert evaluation.image_ids.tolist() == [785, 40083, 196141, 197388]
    kept = DetectionReader(dataclasses.replace(config, keep_empty_images=True), tmp_path)
    kept = kept.split(training=True)
    assert kept.image_ids.tolist() == [785, 40083, 196141, 197388]
    assert np.diff(kept.row_splits).tolist() == [0, 0, 5, 5]
    assert kept.targets(0)["boxes"].shape == (0, 4)


def test_a_split_is_parsed_once_per_reader(monkeypatch, persons_dir):
    calls = []
    read = CocoIndex.read.__func__

    def counting_read(cls, path, **kwargs):
        calls.append(path)
        return read(cls, path, **kwargs)

    monkeypatch.setattr(CocoIndex, "read", classmethod(counting_read))
    reader = DetectionReader(_json_config("test_coco.json"), persons_dir)
    assert reader.split(training=True) is reader.split(training=True)
    reader.split(training=False)
    assert len(calls) == 2


def test_bad_annotation_files_name_the_entry(tmp_path, persons_dir):
    data = _load(persons_dir / "test_coco.json")
    data["annotations"][4]["image_id"] = 12345
    with pytest.raises(CocoFormatError, match=r"boxes.json:annotations\[4\] \(id 460541\)"):
        read_detection_split(_write(tmp_path, data), persons_dir)

    data = _load(persons_dir / "test_coco.json")
    del data["annotations"][6]["bbox"]
    with pytest.raises(CocoFormatError, match="annotation 508900 of image 196141"):
        read_detection_split(_write(tmp_path, data), persons_dir)

    broken = tmp_path / "broken.json"
    broken.write_text('{"images": [')
    with pytest.raises(CocoFormatError, match=r"broken\.json"):
        read_detection_split(broken, persons_dir)
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        read_detection_split(tmp_path / "missing.json", persons_dir)
    with pytest.raises(FileNotFoundError, match="no_images"):
        read_detection_split(persons_dir / "test_coco.json", tmp_path / "no_images")
