"""HRNetV2-W48 on Cityscapes (paper, section 4.1; 81.1 mIoU on val, single scale).

Crops of 512x1024 from the 1024x2048 images randomly scaled by 0.5-2.0 and flipped; SGD lr 0.01,
momentum 0.9, weight decay 5e-4, poly decay (power 0.9) over 120K iterations of batch 12 on 4
devices with synchronised batch norm; OHEM cross-entropy (0.9, 131072) with the official
class weights. Start from ImageNet weights: `--set model.weights=hrnetv2_w48_imagenet.pth`.

    hrnet-keras train --recipe recipes/cityscapes_hrnetv2_w48.py --data data/cityscapes \
        --model-dir runs/cityscapes_w48
    hrnet-keras evaluate --recipe recipes/cityscapes_hrnetv2_w48.py --data data/cityscapes \
        --model-dir runs/cityscapes_w48 \
        --set "task.eval_scales=(0.5,0.75,1.0,1.25,1.5,1.75)" --set task.eval_flip=true
"""

from hrnet_keras.segmentation import SegmentationConfig
from hrnet_keras.segmentation.readers.cityscapes import CLASS_WEIGHTS
from hrnet_keras.segmentation.recipes import paper_segmentation_recipe


def recipe():
    task = SegmentationConfig(
        dataset="cityscapes",
        num_classes=19,
        crop_size=(512, 1024),
        base_size=2048,
        scale_range=(0.5, 2.0),
        flip=True,
        class_weights=CLASS_WEIGHTS,
        ohem=True,
        ohem_threshold=0.9,
        ohem_min_kept=131072,
        eval_scales=(1.0,),
        eval_flip=False,
        # Whole images at scale <= 1; 1024x2048 windows above.
        eval_crop_size=(1024, 2048),
    )
    # 480 x 250 = 120K iterations (one epoch of 250 steps ~ the 2975 images at batch 12).
    return paper_segmentation_recipe(
        task,
        learning_rate=0.01,
        weight_decay=5e-4,
        global_batch_size=12,
        epochs=480,
        steps_per_epoch=250,
    )
