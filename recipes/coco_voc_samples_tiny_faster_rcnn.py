"""`coco_samples_tiny_faster_rcnn.py` on the three VOC photos in COCO format.

For `../shared/data/coco_voc` (`annotations.json`, `JPEGImages/`; labelme's export, whose
categories are the 20 VOC classes after a `_background_` category that has no boxes).

    hrnet-keras train recipes/coco_voc_samples_tiny_faster_rcnn.py \
        --data-dir ../shared/data/coco_voc --model-dir /tmp/coco_voc_tiny
    hrnet-keras evaluate --model-dir /tmp/coco_voc_tiny
"""

from hrnet_keras.detection.recipes import tiny_detection_recipe

# The json's category names, in the order of their ids (0: `_background_`).
CLASS_NAMES = (
    "_background_", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "potted plant",
    "sheep", "sofa", "train", "tv/monitor",
)  # fmt: skip


def recipe():
    # The images' `file_name`s already start with `JPEGImages/`.
    return tiny_detection_recipe("annotations.json", "", class_names=CLASS_NAMES)
