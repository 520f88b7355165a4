"""`SegmentationConfig`: the data, loss and evaluation part of a segmentation recipe."""

import dataclasses

from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD


@dataclasses.dataclass
class SegmentationConfig:
    """Semantic segmentation settings (the paper's, section 4.1, by default).

    Attributes:
        dataset: folder layout: `"cityscapes"`, `"pascal_context"`, `"lip"` or `"voc"`
            (see `hrnet_keras.segmentation.readers`).
        num_classes: classes the model predicts.
        ignore_label: mask value that neither trains nor counts.
        train_split / eval_split: split names of the layout.
        crop_size: training crop `(height, width)`; also the sliding-window size.
        base_size: the long side images are resized to before random scaling (and at test
            time before each scale), as the official configs do; None keeps the image's size.
        train_resize: resize every training image to this `(height, width)` first (LIP's
            official 473x473), or None.
        scale_range: random scaling `(min, max)`.
        flip: random horizontal flips in training.
        flip_pairs: label pairs swapped by a flip (LIP's left/right parts); None takes the
            layout's own.
        class_weights: per-class loss weights (Cityscapes' official ones), or None.
        ohem / ohem_threshold / ohem_min_kept: online hard example mining as the official
            loss does it (keep pixels whose true-class probability is below
            max(threshold, the min_kept-th smallest)).
        eval_scales / eval_flip: multi-scale and flipped testing; `(1.0,)` and False is
            single scale.
        eval_resize: resize test images to this `(height, width)` (LIP's 473x473) and the
            logits back to the label size; None predicts at the image's own size.
        eval_sliding_window: tile scaled images larger than the window with overlapping
            windows (else predict whole images).
        eval_crop_size: the window `(height, width)`; None uses `crop_size`.
        eval_stride_ratio: sliding-window stride as a fraction of the window (2/3).
        mean / std: normalisation of RGB / 255.
        label_mapping: `{stored mask value: train id}` replacing the layout's own mapping.
        align_corners: bilinear `align_corners` when logits are upsampled to label size.
    """

    dataset: str = "voc"
    num_classes: int = 21
    ignore_label: int = 255
    train_split: str = "train"
    eval_split: str = "val"
    crop_size: tuple = (512, 1024)
    base_size: int | None = None
    train_resize: tuple | None = None
    scale_range: tuple = (0.5, 2.0)
    flip: bool = True
    flip_pairs: tuple | None = None
    class_weights: tuple | None = None
    ohem: bool = False
    ohem_threshold: float = 0.9
    ohem_min_kept: int = 131072
    eval_scales: tuple = (1.0,)
    eval_flip: bool = False
    eval_resize: tuple | None = None
    eval_sliding_window: bool = True
    eval_crop_size: tuple | None = None
    eval_stride_ratio: float = 2 / 3
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    label_mapping: dict | None = None
    align_corners: bool = False

    def build_task(self, recipe):
        """The `SegmentationTask` of `recipe` (whose `task` is this config)."""
        from hrnet_keras.segmentation.task import SegmentationTask

        return SegmentationTask(recipe)
