"""Helpers of the classification tests: class folder trees made from the real samples.

- `write_crop_tree`: the COCO person and VOC-category boxes of `../shared/data` cropped out
  of their photos, one folder per category (VOC crops as PNG, COCO crops as JPEG).
- `digit_cells` / `write_digit_tree`: the 5000 handwritten digits of `digits/digits.png`
  (50 rows x 100 columns of 20x20 cells; rows 5d..5d+4 hold digit d).
"""

import json

import numpy as np
from PIL import Image

MIN_BOX = 12  # pixels: smaller boxes are not recognisable crops


def _boxes(annotation_file):
    data = json.loads(annotation_file.read_text())
    names = {c["id"]: c["name"] for c in data["categories"]}
    files = {i["id"]: i["file_name"] for i in data["images"]}
    for number, a in enumerate(data["annotations"]):
        x, y, w, h = a["bbox"]
        if min(w, h) >= MIN_BOX:
            yield files[a["image_id"]], names[a["category_id"]], (x, y, x + w, y + h), number


def crop_boxes(shared_data):
    """`[(category, crop as an RGB PIL image, source)]` of every box of the samples."""
    crops = []
    for folder, annotations, source in (
        ("coco_voc", "annotations.json", "voc"),
        ("coco_persons", "test_coco.json", "coco"),
    ):
        root = shared_data / folder
        for file_name, category, box, number in _boxes(root / annotations):
            with Image.open(root / file_name) as image:
                crop = image.convert("RGB").crop(tuple(round(v) for v in box))
            crops.append((category.replace("/", "_"), crop, f"{source}_{number:02d}"))
    return crops


def write_crop_tree(shared_data, root, categories=None):
    """`root/<category>/<source>_<n>.{png,jpg}` of the sample boxes; returns the counts."""
    counts = {}
    for category, crop, name in crop_boxes(shared_data):
        if categories is not None and category not in categories:
            continue
        (root / category).mkdir(parents=True, exist_ok=True)
        suffix = ".png" if name.startswith("voc") else ".jpg"
        crop.save(root / category / f"{name}{suffix}")
        counts[category] = counts.get(category, 0) + 1
    return counts


def digit_cells(shared_data):
    """`(10, 500, 20, 20)` uint8: the 500 cells of each digit, in sheet order."""
    sheet = np.asarray(Image.open(shared_data / "digits" / "digits.png").convert("L"))
    if sheet.shape != (1000, 2000):
        raise ValueError(f"digits.png is 2000x1000. Received: shape={sheet.shape}")
    return sheet.reshape(50, 20, 100, 20).transpose(0, 2, 1, 3).reshape(10, 500, 20, 20)


def write_digit_tree(cells, root, indices):
    """`root/<digit>/<k>.png` of the cells `indices` (of the 500) of every digit."""
    for digit in range(10):
        (root / str(digit)).mkdir(parents=True, exist_ok=True)
        for k in indices:
            Image.fromarray(cells[digit, k]).save(root / str(digit) / f"{k:03d}.png")
    return root
