"""COCO box (and mask) AP of a detector's outputs, computed with faster-coco-eval.

The detector predicts contiguous class indices 0..K-1; COCO files name categories by their own
ids (1..90 with gaps in COCO itself), so results are mapped back through `category_ids`
before evaluation. Annotation files are validated first, and annotation ids that pycocotools-
style evaluators would mistake for "unmatched" (0 or negative) are renumbered in memory.
"""

import copy
import json
import logging
import math
import os

import numpy as np

METRIC_NAMES = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large")

# Boxes exported from polygons or resized images land a little outside the image through
# rounding; only boxes further out than this are errors.
BOX_OUTSIDE_TOLERANCE = 1.0


def _faster_coco_eval():
    try:
        import faster_coco_eval
    except ImportError as error:  # an optional dependency: only evaluation needs it
        raise ImportError(
            "COCO evaluation needs the `faster-coco-eval` package: pip install faster-coco-eval"
        ) from error
    return faster_coco_eval


def validate_coco_annotations(dataset):
    """Raises ValueError naming the first annotation a COCO evaluation would silently mis-read.

    Checks that images, annotations and categories exist with unique ids, that every
    annotation names a known image and category, and that its `bbox` is four finite numbers,
    non-negative in size and inside its image (within `BOX_OUTSIDE_TOLERANCE` pixels).

    Args:
        dataset: a COCO instances dict (`images`, `annotations`, `categories`).

    Example:
    >>> dataset = {"images": [{"id": 1, "width": 10, "height": 10}],
    ...            "categories": [{"id": 3, "name": "cat"}],
    ...            "annotations": [{"id": 7, "image_id": 2, "category_id": 3,
    ...                             "bbox": [0, 0, 5, 5]}]}
    >>> validate_coco_annotations(dataset)
    Traceback (most recent call last):
    ...
    ValueError: Annotation id 7 (index 0) names image_id 2, which is not in `images`. ...
    """
    for key in ("images", "annotations", "categories"):
        if not isinstance(dataset.get(key), list):
            raise ValueError(
                f"A COCO annotation dict needs a list under {key!r}. "
                f"Received: keys={sorted(dataset)}"
            )
    images = {}
    for index, image in enumerate(dataset["images"]):
        if "id" not in image or "width" not in image or "height" not in image:
            raise ValueError(
                f"Image at index {index} needs `id`, `width` and `height`. Received: image={image}"
            )
        if image["id"] in images:
            raise ValueError(f"Image id {image['id']} appears twice. Received: image={image}")
        images[image["id"]] = image
    category_ids = [category["id"] for category in dataset["categories"]]
    if len(set(category_ids)) != len(category_ids):
        raise ValueError(f"Category ids must be unique. Received: category_ids={category_ids}")
    seen = set()
    for index, annotation in enumerate(dataset["annotations"]):
        name = f"Annotation id {annotation.get('id')} (index {index})"
        if "id" not in annotation:
            raise ValueError(f"{name} has no `id`. Received: annotation={annotation}")
        if annotation["id"] in seen:
            raise ValueError(f"{name}: the id appears twice. Received: annotation={annotation}")
        seen.add(annotation["id"])
        image = images.get(annotation.get("image_id"))
        if image is None:
            raise ValueError(
                f"{name} names image_id {annotation.get('image_id')}, which is not in `images`. "
                f"Received: annotation={annotation}"
            )
        if annotation.get("category_id") not in category_ids:
            raise ValueError(
                f"{name} names category_id {annotation.get('category_id')}, which is not in "
                f"`categories` (ids {category_ids}). Received: annotation={annotation}"
            )
        box = annotation.get("bbox")
        if not (
            isinstance(box, (list, tuple))
            and len(box) == 4
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in box)
        ):
            raise ValueError(
                f"{name} needs `bbox` as four finite numbers [x, y, width, height]. "
                f"Received: bbox={box}"
            )
        x, y, width, height = box
        t = BOX_OUTSIDE_TOLERANCE
        if width < 0 or height < 0:
            raise ValueError(f"{name} has a box of negative size. Received: bbox={box}")
        if x < -t or y < -t or x + width > image["width"] + t or y + height > image["height"] + t:
            raise ValueError(
                f"{name} has a box outside its image {image['id']} of "
                f"{image['width']}x{image['height']} (width x height). Received: bbox={box}"
            )


def load_coco_annotations(annotations):
    """A validated, in-memory copy of a COCO instances file with evaluable annotation ids.

    pycocotools-style evaluators record a match by storing the matched annotation's id, with
    0 meaning "unmatched": an annotation whose id is 0 (or negative) can be matched again and
    never counts as a true positive. Such ids are shifted (all by the same amount, so they
    stay unique) in the returned copy; the file or dict passed in is never modified.

    Args:
        annotations: a path to a COCO json file, or the dict itself.

    Returns:
        The dict, validated, with annotation ids >= 1.

    Example:
    >>> dataset = {"images": [{"id": 0, "width": 10, "height": 10}],
    ...            "categories": [{"id": 1, "name": "cat"}],
    ...            "annotations": [{"id": i, "image_id": 0, "category_id": 1,
    ...                             "bbox": [0, 0, 5, 5], "area": 25} for i in (0, 1)]}
    >>> [a["id"] for a in load_coco_annotations(dataset)["annotations"]]
    [1, 2]
    """
    if isinstance(annotations, (str, os.PathLike)):
        with open(annotations) as file:
            dataset = json.load(file)
    elif isinstance(annotations, dict):
        dataset = copy.deepcopy(annotations)
    else:
        raise TypeError(
            f"`annotations` must be a path to a COCO json file or its dict. "
            f"Received: annotations={type(annotations).__name__}"
        )
    validate_coco_annotations(dataset)
    ids = [annotation["id"] for annotation in dataset["annotations"]]
    if ids and min(ids) < 1:
        shift = 1 - min(ids)
        for annotation in dataset["annotations"]:
            annotation["id"] += shift
    return dataset


def contiguous_category_ids(dataset):
    """The json's category ids in contiguous-label order: label i is category `ids[i]`.

    Sorted ids, the order mmdetection and torchvision's COCO loaders use.

    Example:
    >>> contiguous_category_ids({"categories": [{"id": 90}, {"id": 1}, {"id": 3}]})
    [1, 3, 90]
    """
    return sorted(category["id"] for category in dataset["categories"])


def detections_to_coco_results(image_id, detections, category_ids):
    """One image's detections as COCO result dicts (`bbox` in xywh, json category ids).

    Args:
        image_id: the image's id in the annotation file.
        detections: dict with `boxes` (N, 4) xyxy in original-image pixels, `scores` (N,),
            `labels` (N,) contiguous class indices (rows labelled -1 are padding and skipped),
            optionally `num_detections` (only the first rows count) and `masks`: (N, H, W)
            binary masks at the original image size or a list of N COCO RLE dicts.
        category_ids: sequence mapping contiguous label -> json category id.

    Returns:
        A list of dicts `image_id`, `category_id`, `bbox`, `score` (and `segmentation`).

    Example:
    >>> detections_to_coco_results(
    ...     5, {"boxes": [[10, 20, 40, 60], [0, 0, 0, 0]], "scores": [0.9, 0.0],
    ...         "labels": [1, -1]}, category_ids=[1, 3])
    [{'image_id': 5, 'category_id': 3, 'bbox': [10.0, 20.0, 30.0, 40.0], 'score': 0.9}]
    """
    boxes = np.asarray(detections["boxes"], dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(detections["scores"], dtype=np.float64).reshape(-1)
    labels = np.asarray(detections["labels"]).reshape(-1).astype(np.int64)
    count = len(labels)
    if "num_detections" in detections:
        count = int(np.asarray(detections["num_detections"]).reshape(()))
    if not len(boxes) == len(scores) == len(labels):
        raise ValueError(
            f"`boxes`, `scores` and `labels` need one row per detection. Received: "
            f"shapes={boxes.shape}, {scores.shape}, {labels.shape} for image_id={image_id}"
        )
    rows = [i for i in range(min(count, len(labels))) if labels[i] >= 0]
    if rows and labels[rows].max() >= len(category_ids):
        raise ValueError(
            f"Label {labels[rows].max()} has no category: there are {len(category_ids)} "
            f"categories. Received: image_id={image_id}"
        )
    masks = detections.get("masks")
    rle_list = isinstance(masks, list) and all(isinstance(m, dict) for m in masks)
    if masks is not None and not rle_list:
        masks = np.asarray(masks)
        if not rows:  # an empty list or array: nothing to encode
            masks = None
        elif masks.ndim != 3 or len(masks) != len(labels):
            raise ValueError(
                f"`masks` must be (N, H, W) binary masks, one per detection, or a list of RLE "
                f"dicts. Received: masks.shape={masks.shape} for image_id={image_id}"
            )
    results = []
    for i in rows:
        x1, y1, x2, y2 = boxes[i]
        result = {
            "image_id": image_id,
            "category_id": int(category_ids[labels[i]]),
            "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
            "score": float(scores[i]),
        }
        if masks is not None:
            result["segmentation"] = masks[i] if isinstance(masks, list) else _rle(masks[i])
        results.append(result)
    return results


def _rle(mask):
    rle = _faster_coco_eval().core.mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return rle


def coco_scores(coco_gt, results, iou_type="bbox"):
    """The six COCO AP numbers of result dicts against a faster-coco-eval `COCO` object.

    Args:
        coco_gt: `faster_coco_eval.COCO` of the (validated, renumbered) annotations.
        results: COCO result dicts (`detections_to_coco_results`).
        iou_type: "bbox" or "segm".

    Returns:
        `{f"{iou_type}_{name}": float}` for AP, AP50, AP75, AP_small, AP_medium, AP_large;
        -1 where the annotations have no object of that size, 0 when there are no results.
    """
    fce = _faster_coco_eval()
    quiet = logging.getLogger(__name__).debug
    coco_dt = coco_gt.loadRes(copy.deepcopy(results))
    evaluator = fce.COCOeval_faster(coco_gt, coco_dt, iou_type, print_function=quiet)
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return {f"{iou_type}_{name}": float(evaluator.stats[i]) for i, name in enumerate(METRIC_NAMES)}


class CocoEvaluator:
    """Collects per-image detections and reports COCO AP (one evaluation at the end).

    Args:
        annotations: a COCO json path or dict (validated, ids renumbered in memory).
        iou_type: "bbox", or "segm" for masks (detections then carry `masks`).
        category_ids: json category id of each contiguous label; default the sorted ids of
            the file's categories (`contiguous_category_ids`).

    Example:
    >>> dataset = {"images": [{"id": 1, "width": 100, "height": 100}],
    ...            "categories": [{"id": 18, "name": "dog"}],
    ...            "annotations": [{"id": 1, "image_id": 1, "category_id": 18,
    ...                             "bbox": [10, 10, 50, 40], "area": 2000, "iscrowd": 0}]}
    >>> evaluator = CocoEvaluator(dataset)
    >>> evaluator.update([1], {"boxes": [[[10, 10, 60, 50]]], "scores": [[0.9]],
    ...                        "labels": [[0]]})
    >>> evaluator.result()["bbox_AP"]
    1.0
    """

    def __init__(self, annotations, iou_type="bbox", category_ids=None):
        if iou_type not in ("bbox", "segm"):
            raise ValueError(f"`iou_type` must be 'bbox' or 'segm'. Received: iou_type={iou_type}")
        self.dataset = load_coco_annotations(annotations)
        self.iou_type = iou_type
        known = contiguous_category_ids(self.dataset)
        self.category_ids = list(known if category_ids is None else category_ids)
        unknown = [c for c in self.category_ids if c not in known]
        if unknown:
            raise ValueError(
                f"`category_ids` {unknown} are not categories of the annotations (ids {known}). "
                f"Received: category_ids={category_ids}"
            )
        self.image_ids = {image["id"] for image in self.dataset["images"]}
        self.results = []
        self.seen = set()

    def add(self, image_id, detections):
        """Adds one image's detections (see `detections_to_coco_results`)."""
        if isinstance(image_id, np.integer):
            image_id = int(image_id)
        if image_id not in self.image_ids:
            raise ValueError(
                f"Image id {image_id} is not in the annotations. Received: image_id={image_id}"
            )
        if image_id in self.seen:
            raise ValueError(
                f"Detections of image {image_id} were already added. Received: image_id={image_id}"
            )
        self.seen.add(image_id)
        self.results.extend(detections_to_coco_results(image_id, detections, self.category_ids))

    def update(self, image_ids, outputs):
        """Adds a batch of model outputs: every entry of `outputs` has the batch axis first."""
        outputs = {key: np.asarray(value) for key, value in outputs.items()}
        for i, image_id in enumerate(np.asarray(image_ids).reshape(-1).tolist()):
            self.add(image_id, {key: value[i] for key, value in outputs.items()})

    def result(self):
        """The COCO AP dict of everything added so far (see `coco_scores`)."""
        coco_gt = _faster_coco_eval().COCO(
            copy.deepcopy(self.dataset), print_function=logging.getLogger(__name__).debug
        )
        return coco_scores(coco_gt, self.results, self.iou_type)


def evaluate_coco(annotations, detections, iou_type="bbox", category_ids=None):
    """COCO AP of a whole set of detections, in one call.

    Args:
        annotations: a COCO json path or dict.
        detections: `{image_id: {"boxes", "scores", "labels"[, "masks"]}}`, boxes xyxy in
            original-image pixels, labels contiguous 0..K-1 (-1 = padding). Images missing
            from it have no detections.
        iou_type: "bbox" or "segm".
        category_ids: json category id of each contiguous label (default: sorted ids).

    Returns:
        `{"bbox_AP", "bbox_AP50", "bbox_AP75", "bbox_AP_small", "bbox_AP_medium",
        "bbox_AP_large"}` (prefix `segm_` for masks), floats in [0, 1], -1 where COCO has no
        ground truth of that size.

    Example:
    >>> dataset = {"images": [{"id": 1, "width": 100, "height": 100}],
    ...            "categories": [{"id": 18, "name": "dog"}],
    ...            "annotations": [{"id": 1, "image_id": 1, "category_id": 18,
    ...                             "bbox": [10, 10, 50, 40], "area": 2000, "iscrowd": 0}]}
    >>> scores = evaluate_coco(dataset, {1: {"boxes": [[10, 10, 60, 50]], "scores": [0.9],
    ...                                      "labels": [0]}})
    >>> scores["bbox_AP"], scores["bbox_AP_small"], scores["bbox_AP_medium"]
    (1.0, -1.0, 1.0)
    """
    evaluator = CocoEvaluator(annotations, iou_type, category_ids)
    for image_id, image_detections in detections.items():
        evaluator.add(image_id, image_detections)
    return evaluator.result()
