"""HRNetV2-W48 on LIP human parsing, 20 classes (paper Table 4).

Images resized to 473x473, randomly scaled (0.5-1.6, the official scale factor 11) and
flipped with the left/right part labels swapped; SGD lr 0.007, momentum 0.9, weight decay
5e-4, poly decay over 110K iterations of batch 40. Test: the 473x473 image and its mirror
(left/right swapped back), averaged, at the label's size.

    hrnet-keras train --recipe recipes/lip_hrnetv2_w48.py --data data/lip --model-dir runs/lip
"""

from hrnet_keras.segmentation import SegmentationConfig
from hrnet_keras.segmentation.recipes import paper_segmentation_recipe


def recipe():
    task = SegmentationConfig(
        dataset="lip",
        num_classes=20,
        crop_size=(473, 473),
        train_resize=(473, 473),
        base_size=473,
        scale_range=(0.5, 1.6),
        flip=True,
        eval_resize=(473, 473),
        eval_scales=(1.0,),
        eval_flip=True,
        eval_sliding_window=False,
    )
    # 110 x 1000 = 110K iterations.
    return paper_segmentation_recipe(
        task,
        learning_rate=0.007,
        weight_decay=5e-4,
        global_batch_size=40,
        epochs=110,
        steps_per_epoch=1000,
    )
