"""`CocoIndex`: a COCO annotation file read once, checked, and indexed the ways tasks look it up.

Segmentation, landmark and detection readers share it: images by id, each image's
annotations, categories with a contiguous index, crowd flags, keypoints, and `mask()` that
decodes polygons and RLEs exactly as pycocotools' `annToMask` does.
"""

import json
import os

import numpy as np

from hrnet_keras.data.coco_masks import segmentation_mask

# Boxes may overhang their image by rounding; COCO's own files stay within half a pixel.
_BOX_TOLERANCE = 1.0


class CocoFormatError(ValueError):
    """An annotation file that is not a consistent COCO file; the message names the entry."""


class CocoIndex:
    """The images, categories and annotations of a COCO-format json.

    Args:
        data: the parsed json (a dict with `images`, `annotations`, optional `categories`).
        source: the file name used in error messages.
        check_boxes: reject `bbox`es outside their image (face boxes of landmark datasets may
            overhang the image on purpose; their readers pass False).

    Attributes:
        images: `{image id: image dict}` in file order.
        categories: `{category id: category dict}` sorted by id.
        category_ids: the sorted category ids; `category_index` maps them to 0..C-1.
        annotations: every annotation dict, in file order.

    Example:
    >>> index = CocoIndex({
    ...     "images": [{"id": 7, "file_name": "a.jpg", "height": 4, "width": 5}],
    ...     "categories": [{"id": 3, "name": "cat"}, {"id": 1, "name": "person"}],
    ...     "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "iscrowd": 0,
    ...                      "bbox": [1, 1, 3, 2], "segmentation": [[1, 1, 4, 1, 4, 3, 1, 3]]}],
    ... })
    >>> [a["id"] for a in index.annotations_of(7)], index.category_index(3), index.category_id(0)
    ([1], 1, 1)
    >>> int(index.mask(index.annotation(1)).sum()), index.is_crowd(index.annotation(1))
    (6, False)
    """

    def __init__(self, data, source="<json>", *, check_boxes=True):
        self.source = os.fspath(source)
        if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
            raise CocoFormatError(
                f"A COCO file holds `images` and `annotations`. Received: {self.source}"
            )
        self.images = {}
        for i, image in enumerate(data["images"]):
            if "id" not in image:
                raise CocoFormatError(f"An image without `id` at {self._at('images', i)}.")
            self.images[image["id"]] = image
        self.categories = {c["id"]: c for c in sorted(data.get("categories", []), key=_id)}
        self.category_ids = list(self.categories)
        self._category_index = {c: i for i, c in enumerate(self.category_ids)}
        self.annotations = list(data["annotations"])
        self._by_id = {}
        self._by_image = {image_id: [] for image_id in self.images}
        for i, annotation in enumerate(self.annotations):
            self._check(annotation, i, check_boxes)
            if "id" in annotation:
                self._by_id[annotation["id"]] = annotation
            self._by_image[annotation["image_id"]].append(annotation)

    @classmethod
    def read(cls, path, *, check_boxes=True):
        """The index of the json file at `path`."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"The annotation file {path!r} does not exist. Received: path={path!r}"
            )
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as error:
                raise CocoFormatError(
                    f"The annotation file {path!r} is not valid json: {error}. "
                    f"Received: path={path!r}"
                ) from None
        return cls(data, path, check_boxes=check_boxes)

    def _at(self, key, i, entry=None):
        name = f"{self.source}:{key}[{i}]"
        if entry is not None and "id" in entry:
            name += f" (id {entry['id']})"
        return name

    def _check(self, annotation, i, check_boxes):
        where = self._at("annotations", i, annotation)
        image_id = annotation.get("image_id")
        if image_id not in self.images:
            raise CocoFormatError(
                f"The annotation at {where} names an image that is not in `images`. "
                f"Received: image_id={image_id!r}"
            )
        category = annotation.get("category_id")
        if self.categories and category not in self.categories:
            raise CocoFormatError(
                f"The annotation at {where} names an unknown category (known: "
                f"{self.category_ids}). Received: category_id={category!r}"
            )
        keypoints = annotation.get("keypoints")
        if keypoints is not None and len(keypoints) % 3:
            raise CocoFormatError(
                f"Keypoints are x, y, v triplets at {where}. Received: values={len(keypoints)}"
            )
        box = annotation.get("bbox")
        if box is None:
            return
        if len(box) != 4 or box[2] < 0 or box[3] < 0:
            raise CocoFormatError(
                f"The bbox at {where} is not [x, y, width, height] with a width and height "
                f">= 0. Received: bbox={box!r}"
            )
        image = self.images[image_id]
        if check_boxes and "width" in image and "height" in image:
            x, y, w, h = box
            if (
                x < -_BOX_TOLERANCE
                or y < -_BOX_TOLERANCE
                or x + w > image["width"] + _BOX_TOLERANCE
                or y + h > image["height"] + _BOX_TOLERANCE
            ):
                raise CocoFormatError(
                    f"The bbox at {where} lies outside its {image['width']}x{image['height']} "
                    f"image {image.get('file_name', image_id)!r}. Received: bbox={box!r}"
                )

    @property
    def image_ids(self):
        """Image ids in file order."""
        return list(self.images)

    def annotation(self, annotation_id):
        """The annotation with this `id`."""
        if annotation_id not in self._by_id:
            raise KeyError(
                f"No annotation with this id in {self.source}. "
                f"Received: annotation_id={annotation_id!r}"
            )
        return self._by_id[annotation_id]

    def annotations_of(self, image_id, *, crowd=True):
        """The annotations of one image, in file order (without crowd regions if `crowd=False`)."""
        annotations = self._by_image[image_id]
        return annotations if crowd else [a for a in annotations if not self.is_crowd(a)]

    @staticmethod
    def is_crowd(annotation):
        """Whether the annotation marks a crowd region (`iscrowd` 1), ignored in evaluation."""
        return bool(annotation.get("iscrowd", 0))

    @staticmethod
    def keypoints(annotation):
        """`(K, 3)` float32 x, y, visibility, or None when the annotation has none."""
        values = annotation.get("keypoints")
        if values is None:
            return None
        values = np.asarray(values, np.float32)
        if values.size % 3:
            raise CocoFormatError(f"Keypoints are x, y, v triplets. Received: values={values.size}")
        return values.reshape(-1, 3)

    def category_index(self, category_id):
        """The contiguous 0-based index of a category id (in sorted id order)."""
        if category_id not in self._category_index:
            raise KeyError(
                f"No category with this id in {self.source}. Received: category_id={category_id!r}"
            )
        return self._category_index[category_id]

    def category_id(self, index):
        """The category id of a contiguous index."""
        return self.category_ids[index]

    def mask(self, annotation):
        """The annotation's `segmentation` as a (h, w) uint8 mask of 0/1 (`annToMask`)."""
        image = self.images[annotation["image_id"]]
        return segmentation_mask(annotation["segmentation"], image["height"], image["width"])

    def image_path(self, image_id, image_root):
        """`image_root/file_name` of one image."""
        return os.path.join(os.fspath(image_root), self.images[image_id]["file_name"])


def _id(category):
    return category["id"]
