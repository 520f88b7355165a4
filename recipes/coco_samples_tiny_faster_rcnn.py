"""A tiny Faster R-CNN that memorises the four COCO photos of people beside the repository.

For `../shared/data/coco_persons` (`test_coco.json` and the photos beside it) or any small
COCO-format folder of people: HRNetV2p-W18-small-v1 at a 256-pixel short side, trained and
evaluated (COCO box AP) on the same photos in a few CPU minutes.

    hrnet-keras train recipes/coco_samples_tiny_faster_rcnn.py \
        --data-dir ../shared/data/coco_persons --model-dir /tmp/coco_tiny
    hrnet-keras evaluate --model-dir /tmp/coco_tiny
    hrnet-keras predict --model-dir /tmp/coco_tiny ../shared/data/coco_persons --out /tmp/boxes

The same setting on the VOC photos is `coco_voc_samples_tiny_faster_rcnn.py`.
"""

from hrnet_keras.detection.recipes import tiny_detection_recipe


def recipe():
    return tiny_detection_recipe("test_coco.json", "", class_names=("person",))
