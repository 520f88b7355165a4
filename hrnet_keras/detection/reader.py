"""Where a COCO-format detection dataset lies (`DetectionDataConfig`) and its boxes, read once.

The boxes of a split are parsed as mmdetection v2's `CocoDataset` parses them: COCO's
`[x, y, width, height]` becomes `xyxy` in pixels (width = x2 - x1), annotations whose box
is smaller than a pixel, has no area or misses its image are dropped, crowd regions are kept
with a flag (training ignores them), and category ids become the contiguous index of
`CocoIndex.category_index`.
"""

import dataclasses
import math
import os

import numpy as np

from hrnet_keras.data.coco_index import CocoFormatError, CocoIndex
from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD

LAYOUTS = ("coco2017", "json")
# `layout="coco2017"`: the official release unpacked in the data directory.
_COCO2017_PATHS = {
    "train": ("annotations/instances_train2017.json", "train2017"),
    "eval": ("annotations/instances_val2017.json", "val2017"),
}


@dataclasses.dataclass
class DetectionDataConfig:
    """The data part of a detection recipe (mmdetection v2's 1x COCO settings by default).

    Plain fields only, so that `dataclasses.asdict` goes to JSON and back to an equal config.

    Attributes:
        layout: `"coco2017"` (`annotations/instances_{train,val}2017.json` and
            `{train,val}2017/` in the data directory; the fields below override single paths)
            or `"json"` (any COCO json and image folder, named by the fields below).
        train_annotations / eval_annotations: the json files, relative to the data directory
            (or absolute).
        train_images / eval_images: the folders the images' `file_name`s are relative to
            (`""` is the data directory itself).
        keep_empty_images: keep training images without annotations (mmdet drops them:
            `filter_empty_gt=True`; like mmdet, an image whose annotations are all dropped
            as degenerate stays, without boxes); evaluation always keeps every image.
        min_size / max_size: resize keeping the aspect ratio so that the short side is
            `min_size` and the long side at most `max_size` (mmdet's `img_scale=(1333, 800)`).
        flip: probability of a horizontal flip in training.
        size_divisor: padded sides are multiples of it.
        pad_shape: the fixed `(height, width)` every image is padded to; None is the square
            that holds either orientation, `ceil(max_size / size_divisor) * size_divisor`
            on both sides. A smaller canvas (say `(800, 1344)`) saves compute but images
            that would not fit it are scaled down further to fit.
        max_boxes: ground-truth rows per image; a split with an image that has more boxes
            is refused when its pipeline is built.
        masks: also carry the instance masks (Mask R-CNN), as coverage maps of
            `mask_grid x mask_grid` around each box (`hrnet_keras.detection.mask_grids`).
        mask_grid: the size of those maps.
        mean / std: normalisation of RGB / 255.

    Example:
    >>> import dataclasses, json
    >>> config = DetectionDataConfig(min_size=128, max_size=213)
    >>> config.canvas
    (224, 224)
    >>> DetectionDataConfig(**json.loads(json.dumps(dataclasses.asdict(config)))) == config
    True
    """

    layout: str = "coco2017"
    train_annotations: str | None = None
    train_images: str | None = None
    eval_annotations: str | None = None
    eval_images: str | None = None
    keep_empty_images: bool = False
    min_size: int = 800
    max_size: int = 1333
    flip: float = 0.5
    size_divisor: int = 32
    pad_shape: tuple | None = None
    max_boxes: int = 100
    masks: bool = False
    mask_grid: int = 64
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD

    def __post_init__(self):
        # JSON turns tuples into lists; tuples keep a round-tripped config equal.
        for name in ("pad_shape", "mean", "std"):
            if isinstance(getattr(self, name), list):
                setattr(self, name, tuple(getattr(self, name)))
        if self.layout not in LAYOUTS:
            raise ValueError(f"`layout` is one of {LAYOUTS}. Received: layout={self.layout!r}")
        if not 0 < self.min_size <= self.max_size:
            raise ValueError(
                "Sizes need 0 < min_size <= max_size. "
                f"Received: min_size={self.min_size}, max_size={self.max_size}"
            )
        if not 0.0 <= self.flip <= 1.0:
            raise ValueError(f"`flip` is a probability. Received: flip={self.flip}")
        if (
            isinstance(self.mask_grid, bool)
            or not isinstance(self.mask_grid, int)
            or (self.mask_grid < 4)
        ):
            raise ValueError(f"`mask_grid` is an int >= 4. Received: mask_grid={self.mask_grid!r}")
        if self.size_divisor < 1 or self.max_boxes < 1:
            raise ValueError(
                "`size_divisor` and `max_boxes` are positive. "
                f"Received: size_divisor={self.size_divisor}, max_boxes={self.max_boxes}"
            )
        if self.pad_shape is not None and (
            len(self.pad_shape) != 2
            or min(self.pad_shape) < 1
            or any(side % self.size_divisor for side in self.pad_shape)
        ):
            raise ValueError(
                f"`pad_shape` is (height, width), multiples of size_divisor={self.size_divisor}. "
                f"Received: pad_shape={self.pad_shape!r}"
            )

    @property
    def canvas(self):
        """The static padded `(height, width)` of every image."""
        if self.pad_shape is not None:
            return tuple(int(side) for side in self.pad_shape)
        side = math.ceil(self.max_size / self.size_divisor) * self.size_divisor
        return (side, side)

    def paths(self, data_dir, *, training):
        """`(annotation file, image folder)` of the training or evaluation split."""
        split = "train" if training else "eval"
        annotations = getattr(self, f"{split}_annotations")
        images = getattr(self, f"{split}_images")
        if self.layout == "coco2017":
            default_annotations, default_images = _COCO2017_PATHS[split]
            annotations = default_annotations if annotations is None else annotations
            images = default_images if images is None else images
        elif annotations is None or images is None:
            raise ValueError(
                f'`layout="json"` names its files: set `{split}_annotations` and '
                f"`{split}_images`. Received: {split}_annotations={annotations!r}, "
                f"{split}_images={images!r}"
            )
        data_dir = os.fspath(data_dir)
        return os.path.join(data_dir, annotations), os.path.join(data_dir, images)


@dataclasses.dataclass
class DetectionSplit:
    """The images of one split and their boxes, flat with row offsets (a ragged table).

    Attributes:
        index: the `CocoIndex` of the annotation file.
        image_ids: `(N,)` int64 COCO image ids, in file order.
        files: `N` image paths.
        sizes: `(N, 2)` int32 `(height, width)` as the json gives them.
        boxes: `(T, 4)` float32 `xyxy` pixels of every kept annotation.
        labels: `(T,)` int32 contiguous class index.
        crowd: `(T,)` bool `iscrowd` flags.
        row_splits: `(N + 1,)` int64; image i owns rows `row_splits[i]:row_splits[i + 1]`.
        annotation_ids: `(T,)` int64 the annotation `id` of each row (its mask's source).
    """

    index: CocoIndex
    image_ids: np.ndarray
    files: list
    sizes: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    crowd: np.ndarray
    row_splits: np.ndarray
    annotation_ids: np.ndarray | None = None

    def __len__(self):
        return len(self.files)

    def targets(self, i):
        """`{"boxes", "labels", "crowd"}` of image i (NumPy, original pixels)."""
        rows = slice(self.row_splits[i], self.row_splits[i + 1])
        return {"boxes": self.boxes[rows], "labels": self.labels[rows], "crowd": self.crowd[rows]}

    @property
    def num_classes(self):
        return len(self.index.category_ids)

    @property
    def class_names(self):
        return [self.index.categories[c].get("name", str(c)) for c in self.index.category_ids]

    def category_ids(self, labels):
        """COCO category ids of contiguous `labels` (any shape); padding (-1) stays -1."""
        labels = np.asarray(labels)
        table = np.asarray(self.index.category_ids, np.int64)
        return np.where(labels >= 0, table[np.maximum(labels, 0)], -1)

    def most_boxes(self):
        """`(rows, image position)` of the image with the most boxes (`(0, -1)` when empty)."""
        if not len(self):
            return 0, -1
        counts = np.diff(self.row_splits)
        i = int(np.argmax(counts))
        return int(counts[i]), i


def _usable(annotation, width, height):
    # mmdet v2 `CocoDataset._parse_ann_info`: the box must overlap its image, have an area
    # and be at least a pixel wide and high.
    x, y, w, h = annotation["bbox"]
    inter_w = max(0.0, min(x + w, width) - max(x, 0.0))
    inter_h = max(0.0, min(y + h, height) - max(y, 0.0))
    return inter_w * inter_h > 0 and annotation.get("area", 1.0) > 0 and w >= 1 and h >= 1


def read_detection_split(annotations, image_root, *, keep_empty=True):
    """The `DetectionSplit` of a COCO json and the folder its `file_name`s are relative to.

    Args:
        annotations: path of the json.
        image_root: folder of the images.
        keep_empty: keep images without annotations.

    Returns:
        A `DetectionSplit`.

    Raises:
        CocoFormatError: an inconsistent file (the message names the entry), an annotation
            without `bbox`, an image without `width`/`height`, or no `categories`.
    """
    image_root = os.fspath(image_root)
    if not os.path.isdir(image_root):
        raise FileNotFoundError(
            f"The image folder {image_root!r} does not exist. Received: image_root={image_root!r}"
        )
    index = CocoIndex.read(annotations)
    if not index.categories:
        raise CocoFormatError(
            f"Detection needs the `categories` of {index.source}. Received: categories=[]"
        )
    image_ids, files, sizes, boxes, labels, crowd, row_splits = [], [], [], [], [], [], [0]
    annotation_ids = []
    for image_id, image in index.images.items():
        if "width" not in image or "height" not in image:
            raise CocoFormatError(
                f"The image {image.get('file_name', image_id)!r} of {index.source} has no "
                f"`width` and `height`. Received: image={image!r}"
            )
        annotations = index.annotations_of(image_id)
        if not annotations and not keep_empty:
            continue
        kept = []
        for annotation in annotations:
            if "bbox" not in annotation:
                raise CocoFormatError(
                    f"Detection needs a `bbox` in every annotation; the annotation "
                    f"{annotation.get('id')!r} of image {image_id!r} in {index.source} has none. "
                    f"Received: keys={sorted(annotation)}"
                )
            if _usable(annotation, image["width"], image["height"]):
                kept.append(annotation)
        for annotation in kept:
            x, y, w, h = annotation["bbox"]
            boxes.append((x, y, x + w, y + h))
            labels.append(index.category_index(annotation["category_id"]))
            crowd.append(index.is_crowd(annotation))
            annotation_ids.append(annotation.get("id", -1))
        image_ids.append(image_id)
        files.append(index.image_path(image_id, image_root))
        sizes.append((image["height"], image["width"]))
        row_splits.append(len(boxes))
    return DetectionSplit(
        index=index,
        image_ids=np.asarray(image_ids, np.int64),
        files=files,
        sizes=np.asarray(sizes, np.int32).reshape(-1, 2),
        boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
        labels=np.asarray(labels, np.int32),
        crowd=np.asarray(crowd, bool),
        row_splits=np.asarray(row_splits, np.int64),
        annotation_ids=np.asarray(annotation_ids, np.int64),
    )


class DetectionReader:
    """The training and evaluation splits of a `DetectionDataConfig`, each parsed once.

    Args:
        config: a `DetectionDataConfig`.
        data_dir: the folder its paths are relative to.

    Example:
    >>> import json, os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> with open(os.path.join(root, "boxes.json"), "w") as f:
    ...     json.dump({"images": [{"id": 1, "file_name": "a.jpg", "height": 20, "width": 30}],
    ...                "categories": [{"id": 5, "name": "cat"}],
    ...                "annotations": [{"id": 1, "image_id": 1, "category_id": 5,
    ...                                 "bbox": [2, 3, 10, 4], "area": 40, "iscrowd": 0}]}, f)
    >>> config = DetectionDataConfig(layout="json", train_annotations="boxes.json",
    ...                              train_images="")
    >>> split = DetectionReader(config, root).split(training=True)
    >>> split.boxes.tolist(), split.labels.tolist(), split.category_ids(split.labels).tolist()
    ([[2.0, 3.0, 12.0, 7.0]], [0], [5])
    """

    def __init__(self, config, data_dir):
        self.config = config
        self.data_dir = os.fspath(data_dir)
        self._splits = {}

    def split(self, *, training):
        """The `DetectionSplit` for training (empty images per the config) or evaluation."""
        if training not in self._splits:
            annotations, images = self.config.paths(self.data_dir, training=training)
            keep_empty = self.config.keep_empty_images or not training
            self._splits[training] = read_detection_split(
                annotations, images, keep_empty=keep_empty
            )
        return self._splits[training]
