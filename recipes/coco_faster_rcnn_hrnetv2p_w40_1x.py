"""Faster R-CNN with HRNetV2p-W40 on COCO 2017, the 1x schedule (mmdetection's
`faster_rcnn_hrnetv2p_w40_1x`, 41.2 box AP on val2017 in its release; see
`hrnet_keras.detection.recipes.coco_faster_rcnn_recipe` for the setting).

Data: the official release under the data folder (`annotations/instances_{train,val}2017.json`,
`train2017/`, `val2017/`). The backbone starts from the ImageNet classifier, converted once:

    hrnet-keras convert hrnetv2_w40_imagenet_pretrained.pth hrnetv2_w40_imagenet.keras \
        --model backbone
    hrnet-keras train recipes/coco_faster_rcnn_hrnetv2p_w40_1x.py --data-dir data/coco \
        --model-dir runs/faster_rcnn_w40_1x
    hrnet-keras evaluate --model-dir runs/faster_rcnn_w40_1x
"""

from hrnet_keras.detection.recipes import coco_faster_rcnn_recipe


def recipe():
    return coco_faster_rcnn_recipe(40, schedule="1x")
