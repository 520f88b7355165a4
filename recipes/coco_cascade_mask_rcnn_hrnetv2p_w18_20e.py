"""Cascade Mask R-CNN with HRNetV2p-W18 on COCO 2017, 20 epochs (mmdetection's
`cascade_mask_rcnn_hrnetv2p_w18_20e`, 41.6 box AP and 36.4 mask AP on val2017 in its
release; see `hrnet_keras.detection.cascade_recipes.coco_cascade_mask_rcnn_recipe`).

Data: the official release under the data folder (`annotations/instances_{train,val}2017.json`,
`train2017/`, `val2017/`). The backbone starts from the ImageNet classifier, converted once:

    hrnet-keras convert hrnetv2_w18_imagenet_pretrained.pth hrnetv2_w18_imagenet.keras \
        --model backbone
    hrnet-keras train recipes/coco_cascade_mask_rcnn_hrnetv2p_w18_20e.py --data-dir data/coco \
        --model-dir runs/cascade_mask_rcnn_w18_20e
    hrnet-keras evaluate --model-dir runs/cascade_mask_rcnn_w18_20e
"""

from hrnet_keras.detection.cascade_recipes import coco_cascade_mask_rcnn_recipe


def recipe():
    return coco_cascade_mask_rcnn_recipe(18)
