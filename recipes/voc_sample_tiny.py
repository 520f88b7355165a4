"""A tiny HRNetV2 that memorises a handful of VOC-layout images in a few CPU minutes.

For the three real PASCAL VOC samples beside the repository (`../shared/data/voc_seg`) or any
small VOC-style folder of your own: images are brought to a 256-pixel long side, trained on
192x192 crops (scaled by 0.9-1.2), and evaluated at the same base size (logits upsampled to
the full mask).

    hrnet-keras train --recipe recipes/voc_sample_tiny.py --data ../shared/data/voc_seg \
        --model-dir /tmp/voc_tiny
"""

from hrnet_keras.segmentation import SegmentationConfig
from hrnet_keras.segmentation.recipes import tiny_segmentation_recipe


def recipe():
    task = SegmentationConfig(
        dataset="voc",
        num_classes=21,
        crop_size=(192, 192),
        base_size=256,
        scale_range=(0.9, 1.2),
        eval_split="train",
        eval_sliding_window=False,
    )
    return tiny_segmentation_recipe(task, global_batch_size=4, epochs=12, steps_per_epoch=25)
