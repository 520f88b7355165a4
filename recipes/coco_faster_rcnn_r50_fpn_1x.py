"""Faster R-CNN with ResNet-50-FPN on COCO 2017, the 1x schedule: the paper's baseline
(mmdetection's `faster_rcnn_r50_fpn_1x`; see
`hrnet_keras.detection.recipes.coco_faster_rcnn_recipe` for the setting).

The backbone starts from torchvision's ImageNet ResNet-50 (`resnet50-0676ba61.pth`, read
directly; the stem and the first stage stay frozen, as mmdetection's `frozen_stages=1`):

    hrnet-keras train recipes/coco_faster_rcnn_r50_fpn_1x.py --data-dir data/coco \
        --model-dir runs/faster_rcnn_r50_1x --set model.backbone_weights=resnet50-0676ba61.pth
"""

from hrnet_keras.detection.recipes import coco_faster_rcnn_recipe


def recipe():
    return coco_faster_rcnn_recipe(backbone="resnet50", schedule="1x")
