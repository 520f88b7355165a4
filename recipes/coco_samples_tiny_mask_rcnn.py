"""A tiny Mask R-CNN that memorises the four COCO photos of people beside the repository.

For `../shared/data/coco_persons` (`test_coco.json` and the photos beside it) or any small
COCO-format folder with polygon or RLE masks: HRNetV2p-W18-small-v1 at a 256-pixel short
side with a 64-channel mask head, trained and evaluated (COCO box and mask AP) on the same
photos on a CPU.

    hrnet-keras train recipes/coco_samples_tiny_mask_rcnn.py \
        --data-dir ../shared/data/coco_persons --model-dir /tmp/coco_tiny_masks
    hrnet-keras evaluate --model-dir /tmp/coco_tiny_masks
"""

from hrnet_keras.detection.recipes import tiny_mask_rcnn_recipe


def recipe():
    return tiny_mask_rcnn_recipe("test_coco.json", "", class_names=("person",))
