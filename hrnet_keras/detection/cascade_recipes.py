"""The Cascade Mask R-CNN recipe's setting: mmdetection's `cascade_mask_rcnn_hrnetv2p_w*_20e`.

Not imported by `hrnet_keras.detection` itself, like `hrnet_keras.detection.recipes`: the
presets table it reads imports that package.
"""

import dataclasses

from hrnet_keras.detection.recipes import coco_cascade_rcnn_recipe


def coco_cascade_mask_rcnn_recipe(width=32, *, schedule="20e", backbone_weights=None):
    """Cascade Mask R-CNN with HRNetV2p on COCO 2017: `coco_cascade_rcnn_recipe`'s setting
    (data, SGD, warm-up, clipping, 20 epochs with the rate x0.1 after epochs 16 and 19) with
    the instance masks in the pipeline (`task.masks`) and the `cascade_mask_rcnn` builder, as
    mmdetection's `cascade_mask_rcnn_hrnetv2p_w{18,32,40}_20e` train.

    Args:
        width, schedule, backbone_weights: as `coco_cascade_rcnn_recipe`.

    Returns:
        A `Recipe`.

    Example:
    >>> recipe = coco_cascade_mask_rcnn_recipe(18)
    >>> recipe.model.builder, recipe.task.masks, recipe.optimizer.boundaries
    ('cascade_mask_rcnn', True, (16, 19))
    """
    recipe = coco_cascade_rcnn_recipe(width, schedule=schedule, backbone_weights=backbone_weights)
    return dataclasses.replace(
        recipe,
        task=dataclasses.replace(recipe.task, masks=True),
        model=dataclasses.replace(recipe.model, builder="cascade_mask_rcnn"),
    )
