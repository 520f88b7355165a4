"""Cascade Mask R-CNN with HRNetV2p-W32 on COCO 2017, 20 epochs (mmdetection's
`cascade_mask_rcnn_hrnetv2p_w32_20e`, 44.3 box AP and 38.6 mask AP on val2017 in its
release; see `hrnet_keras.detection.cascade_recipes.coco_cascade_mask_rcnn_recipe`).

Data: the official release under the data folder (`annotations/instances_{train,val}2017.json`,
`train2017/`, `val2017/`). The backbone starts from the ImageNet classifier, converted once:

    hrnet-keras convert hrnetv2_w32_imagenet_pretrained.pth hrnetv2_w32_imagenet.keras \
        --model backbone
    hrnet-keras train recipes/coco_cascade_mask_rcnn_hrnetv2p_w32_20e.py --data-dir data/coco \
        --model-dir runs/cascade_mask_rcnn_w32_20e
    hrnet-keras evaluate --model-dir runs/cascade_mask_rcnn_w32_20e
"""

from hrnet_keras.detection.cascade_recipes import coco_cascade_mask_rcnn_recipe


def recipe():
    return coco_cascade_mask_rcnn_recipe(32)
