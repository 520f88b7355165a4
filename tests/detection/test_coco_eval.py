"""COCO evaluation on the real sample annotations, against pycocotools as the reference."""

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from faster_coco_eval.core import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from hrnet_keras.detection.coco_eval import (
    METRIC_NAMES,
    CocoEvaluator,
    contiguous_category_ids,
    detections_to_coco_results,
    evaluate_coco,
    load_coco_annotations,
)

FILES = {"coco_persons": "coco_persons/test_coco.json", "coco_voc": "coco_voc/annotations.json"}


@pytest.fixture(params=sorted(FILES))
def dataset(request, shared_data):
    with open(shared_data / FILES[request.param]) as file:
        return json.load(file)


def ground_truth_detections(dataset, with_masks=False):
    """The annotations themselves as detections of score 1."""
    category_ids = contiguous_category_ids(dataset)
    images = {image["id"]: image for image in dataset["images"]}
    detections = {image_id: {"boxes": [], "scores": [], "labels": []} for image_id in images}
    for annotation in dataset["annotations"]:
        x, y, w, h = annotation["bbox"]
        image = detections[annotation["image_id"]]
        image["boxes"].append([x, y, x + w, y + h])
        image["scores"].append(1.0)
        image["labels"].append(category_ids.index(annotation["category_id"]))
        if with_masks:
            size = images[annotation["image_id"]]
            rle = mask_utils.segmToRle(
                annotation["segmentation"], w=size["width"], h=size["height"]
            )
            image.setdefault("masks", []).append(mask_utils.decode(rle))
    return {
        image_id: {key: np.asarray(value) for key, value in image.items()}
        for image_id, image in detections.items()
    }


def noisy_detections(dataset, seed):
    """Jittered, partly dropped, mislabelled and invented detections with random scores."""
    rng = np.random.default_rng(seed)
    num_classes = len(dataset["categories"])
    detections = {}
    for image_id, image in ground_truth_detections(dataset).items():
        keep = rng.random(len(image["labels"])) > 0.25
        boxes = image["boxes"][keep].astype(np.float64)
        labels = image["labels"][keep].copy()
        size = np.concatenate([boxes[:, 2:] - boxes[:, :2]] * 2, axis=1)
        boxes += rng.normal(scale=0.08, size=boxes.shape) * size
        labels[rng.random(len(labels)) < 0.15] = rng.integers(num_classes)
        extra = rng.integers(0, 4)
        corner = rng.uniform(0, 250, size=(extra, 2))
        invented = np.concatenate([corner, corner + rng.uniform(8, 150, size=(extra, 2))], 1)
        detections[image_id] = {
            "boxes": np.concatenate([boxes, invented]),
            "scores": rng.random(len(boxes) + extra),
            "labels": np.concatenate([labels, rng.integers(0, num_classes, extra)]),
        }
    return detections


def pycocotools_scores(dataset, detections, iou_type="bbox"):
    """The same evaluation done by pycocotools, on the renumbered annotations."""
    renumbered = load_coco_annotations(dataset)
    ids = contiguous_category_ids(renumbered)
    results = [
        result
        for image_id, image in detections.items()
        for result in detections_to_coco_results(image_id, image, ids)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = renumbered
        coco.createIndex()
        evaluator = COCOeval(coco, coco.loadRes(results), iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {f"{iou_type}_{name}": evaluator.stats[i] for i, name in enumerate(METRIC_NAMES)}


def test_perfect_predictions_give_ap_one(dataset):
    scores = evaluate_coco(dataset, ground_truth_detections(dataset))
    assert scores == {f"bbox_{name}": 1.0 for name in METRIC_NAMES}


@pytest.mark.parametrize("seed", range(4))
def test_noisy_predictions_match_pycocotools(dataset, seed):
    if seed % 2:  # crowd regions: matched without counting, never false negatives
        for annotation in dataset["annotations"][::4]:
            annotation["iscrowd"] = 1
    detections = noisy_detections(dataset, seed)
    scores = evaluate_coco(dataset, detections)
    expected = pycocotools_scores(dataset, detections)
    assert 0.05 < scores["bbox_AP"] < 0.95, scores  # neither trivial nor perfect
    assert scores.keys() == expected.keys()
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value, abs=1e-6), key


def test_masks_perfect_and_noisy_match_pycocotools(shared_data):
    with open(shared_data / FILES["coco_voc"]) as file:
        dataset = json.load(file)
    perfect = ground_truth_detections(dataset, with_masks=True)
    assert evaluate_coco(dataset, perfect, iou_type="segm") == {
        f"segm_{name}": 1.0 for name in METRIC_NAMES
    }
    rng = np.random.default_rng(0)
    noisy = copy.deepcopy(perfect)
    for image in noisy.values():
        image["masks"] = np.stack(
            [np.roll(m, rng.integers(-12, 12, 2), (0, 1)) for m in image["masks"]]
        )
        image["scores"] = rng.random(len(image["scores"]))
    scores = evaluate_coco(dataset, noisy, iou_type="segm")
    expected = pycocotools_scores(dataset, noisy, iou_type="segm")
    assert 0.05 < scores["segm_AP"] < 0.95, scores
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value, abs=1e-6), key
    as_rle = {
        image_id: {
            **image,
            "masks": [mask_utils.encode(np.asfortranarray(m)) for m in image["masks"]],
        }
        for image_id, image in noisy.items()
    }
    assert evaluate_coco(dataset, as_rle, iou_type="segm") == scores
    first = next(iter(noisy))
    height, width = noisy[first]["masks"].shape[1:]
    noisy[first] = {
        "boxes": np.zeros((0, 4)),
        "scores": [],
        "labels": [],
        "masks": np.zeros((0, height, width)),
    }
    assert 0 < evaluate_coco(dataset, noisy, iou_type="segm")["segm_AP"] < scores["segm_AP"]


def test_annotation_id_zero_is_renumbered_in_memory(shared_data):
    path = shared_data / FILES["coco_voc"]
    with open(path) as file:
        dataset = json.load(file)
    assert min(a["id"] for a in dataset["annotations"]) == 0  # the pitfall this test is about
    original = copy.deepcopy(dataset)
    detections = ground_truth_detections(dataset)
    # Left as it is, the box with id 0 never counts as a true positive.
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(dataset)
        coco.createIndex()
        results = [
            r
            for image_id, image in detections.items()
            for r in detections_to_coco_results(image_id, image, contiguous_category_ids(dataset))
        ]
        raw = COCOeval(coco, coco.loadRes(results), "bbox")
        raw.evaluate()
        raw.accumulate()
        raw.summarize()
    assert raw.stats[0] < 0.99
    assert evaluate_coco(path, detections)["bbox_AP"] == 1.0
    assert evaluate_coco(dataset, detections)["bbox_AP"] == 1.0
    assert dataset == original
    ids = [a["id"] for a in load_coco_annotations(dataset)["annotations"]]
    assert ids == [a["id"] + 1 for a in original["annotations"]]


def test_no_detections_and_images_without_detections(dataset):
    none_at_all = evaluate_coco(dataset, {})
    assert set(none_at_all.values()) <= {0.0, -1.0}
    first = dataset["images"][0]["id"]
    detections = ground_truth_detections(dataset)
    detections[first] = {"boxes": np.zeros((0, 4)), "scores": [], "labels": []}
    partial = evaluate_coco(dataset, detections)
    assert 0.0 < partial["bbox_AP"] < 1.0
    del detections[first]
    assert evaluate_coco(dataset, detections) == partial


def test_category_ids_round_trip(shared_data):
    """COCO-style ids with gaps: label i <-> the i-th sorted id, and back."""
    with open(shared_data / FILES["coco_voc"]) as file:
        dataset = json.load(file)
    gapped = {c["id"]: 3 * c["id"] + 2 for c in dataset["categories"]}
    for category in dataset["categories"]:
        category["id"] = gapped[category["id"]]
    for annotation in dataset["annotations"]:
        annotation["category_id"] = gapped[annotation["category_id"]]
    ids = contiguous_category_ids(dataset)
    assert ids == sorted(gapped.values()) and ids[:2] == [2, 5]
    detections = ground_truth_detections(dataset)
    for image_id, image in detections.items():
        results = detections_to_coco_results(image_id, image, ids)
        assert [ids.index(r["category_id"]) for r in results] == image["labels"].tolist()
        wanted = [a["category_id"] for a in dataset["annotations"] if a["image_id"] == image_id]
        assert [r["category_id"] for r in results] == wanted
    assert evaluate_coco(dataset, detections)["bbox_AP"] == 1.0
    # Another label order is honoured: here every label points at the next category.
    rolled = ids[1:] + ids[:1]
    shifted = {
        image_id: {**image, "labels": (image["labels"] - 1) % len(ids)}
        for image_id, image in detections.items()
    }
    assert evaluate_coco(dataset, shifted, category_ids=rolled)["bbox_AP"] == 1.0
    assert evaluate_coco(dataset, shifted)["bbox_AP"] == 0.0


def test_batched_model_outputs_with_padding(dataset):
    """Padded (B, 100) outputs as the model returns them give the per-image numbers."""
    detections = noisy_detections(dataset, seed=7)
    image_ids = list(detections)
    batch = {
        "boxes": np.zeros((len(image_ids), 100, 4), np.float32),
        "scores": np.zeros((len(image_ids), 100), np.float32),
        "labels": np.full((len(image_ids), 100), -1, np.int32),
        "num_detections": np.zeros(len(image_ids), np.int32),
    }
    for i, image_id in enumerate(image_ids):
        n = len(detections[image_id]["labels"])
        batch["boxes"][i, :n] = detections[image_id]["boxes"]
        batch["scores"][i, :n] = detections[image_id]["scores"]
        batch["labels"][i, :n] = detections[image_id]["labels"]
        batch["num_detections"][i] = n
        batch["labels"][i, n : n + 1] = 0  # beyond num_detections: never read
    evaluator = CocoEvaluator(dataset)
    evaluator.update(image_ids[:1], {k: v[:1] for k, v in batch.items()})
    evaluator.update(image_ids[1:], {k: v[1:] for k, v in batch.items()})
    as_float32 = {
        image_id: {k: np.asarray(v, np.float32) for k, v in image.items()}
        for image_id, image in detections.items()
    }
    assert evaluator.result() == pytest.approx(evaluate_coco(dataset, as_float32), abs=1e-12)
    with pytest.raises(ValueError, match="already added"):
        evaluator.update(image_ids[:1], {k: v[:1] for k, v in batch.items()})
    with pytest.raises(ValueError, match="not in the annotations"):
        evaluator.add(-5, detections[image_ids[0]])
    beyond = {"boxes": [[0, 0, 5, 5]], "scores": [1.0], "labels": [len(dataset["categories"])]}
    with pytest.raises(ValueError, match="has no category"):
        CocoEvaluator(dataset).add(image_ids[0], beyond)


def broken(dataset, change):
    dataset = copy.deepcopy(dataset)
    change(dataset["annotations"][1], dataset)
    return dataset


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a, d: a.update(image_id=987654321), "names image_id 987654321, which is not in"),
        (lambda a, d: a.update(category_id=4242), "names category_id 4242, which is not in"),
        (lambda a, d: a["bbox"].__setitem__(0, 600.0), "box outside its image"),
        (lambda a, d: a["bbox"].__setitem__(1, -20.0), "box outside its image"),
        (lambda a, d: a["bbox"].__setitem__(2, -3.0), "negative size"),
        (lambda a, d: a["bbox"].__setitem__(3, float("nan")), "four finite numbers"),
        (lambda a, d: a.update(id=d["annotations"][0]["id"]), "the id appears twice"),
    ],
)
def test_bad_annotations_name_the_annotation(dataset, change, message):
    bad = broken(dataset, change)
    annotation = bad["annotations"][1]
    with pytest.raises(ValueError, match=rf"Annotation id {annotation['id']} \(index 1\)") as error:
        evaluate_coco(bad, {})
    assert message in str(error.value)
