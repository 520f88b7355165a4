"""HRNetV2-W48 on PASCAL-Context, 59 classes (background ignored; paper Table 3).

480x480 crops from images whose long side is 520, randomly scaled by 0.5-2.0 and flipped; SGD
lr 0.004, momentum 0.9, weight decay 1e-4, poly decay over 60K iterations of batch 16; plain
cross-entropy (the official config has OHEM off). Test: multi-scale 0.5-2.0 + flip with
480x480 sliding windows at a stride of 2/3:

    hrnet-keras evaluate --recipe recipes/pascal_context_hrnetv2_w48.py \
        --data data/pascal_ctx/VOCdevkit/VOC2010 --model-dir runs/pctx_w48 \
        --set "task.eval_scales=(0.5,0.75,1.0,1.25,1.5,1.75,2.0)" --set task.eval_flip=true
"""

from hrnet_keras.segmentation import SegmentationConfig
from hrnet_keras.segmentation.recipes import paper_segmentation_recipe


def recipe():
    task = SegmentationConfig(
        dataset="pascal_context",
        num_classes=59,
        crop_size=(480, 480),
        base_size=520,
        scale_range=(0.5, 2.0),
        flip=True,
        eval_scales=(1.0,),
        eval_flip=False,
        eval_stride_ratio=2 / 3,
    )
    # 200 x 300 = 60K iterations (300 steps ~ the 4998 training images at batch 16).
    return paper_segmentation_recipe(
        task,
        learning_rate=0.004,
        weight_decay=1e-4,
        global_batch_size=16,
        epochs=200,
        steps_per_epoch=300,
    )
