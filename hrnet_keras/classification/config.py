"""`ClassificationConfig`: the data, augmentation, loss and evaluation part of a classifier's
recipe."""

import dataclasses

from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD


@dataclasses.dataclass
class ClassificationConfig:
    """Image classification settings (the official HRNet ImageNet ones by default).

    Attributes:
        dataset: the layout, `"folder"` (`root/<class>/*.jpg`), `"imagenet"` (ILSVRC2012
            folders and validation label files) or `"tfrecord"` (see
            `hrnet_keras.classification.readers`).
        class_names: the classes in index order; None takes them from the data (a folder
            tree's sorted subfolders, ImageNet's table; for TFRecord shards, ImageNet's
            when the model has 1000 classes, else `"0"`, `"1"`, ...).
        train_split / eval_split: split folder names (TFRecord: shard name prefixes).
        holdout_fraction: for a single folder tree (no `train/` and `val/` trees), the
            share of each class held out as the eval split.
        split_seed: which images a single tree holds out.
        label_offset: subtracted from TFRecord labels (1 for 1-based ImageNet shards).
        train_examples: size of the training split when known (TFRecord shards are
            otherwise counted by reading them once).
        crop_size: the training crop and evaluation crop side (224).
        scale_range / ratio_range: random-resized-crop area share and aspect ratio.
        flip: random horizontal flips in training.
        eval_crop_pct: evaluation resizes the shorter side to `crop_size / eval_crop_pct`
            (0.875: 256 for 224) before the centre crop.
        interpolation: `"bilinear"` (the official code, timm's HRNet weights) or
            `"bicubic"`, resampled as PIL does.
        mean / std: normalisation of RGB / 255.
        label_smoothing: of the cross-entropy targets.
        mixup_alpha / cutmix_alpha: > 0 turns on `keras.layers.MixUp` / `CutMix` (with
            both, each batch takes one of them).
        randaugment_ops / randaugment_factor: > 0 operations per image turn on
            `keras.layers.RandAugment` with that magnitude factor.
        freeze_backbone_epochs: fine-tuning trains only the head (`predictions`) for this
            many epochs, then everything.
        eval_batch_size: batch size of `evaluate` and `predict`.
        top_k: classes the served model and `predict` return.
    """

    dataset: str = "folder"
    class_names: tuple | None = None
    train_split: str = "train"
    eval_split: str = "val"
    holdout_fraction: float = 0.1
    split_seed: int = 0
    label_offset: int = 0
    train_examples: int | None = None
    crop_size: int = 224
    scale_range: tuple = (0.08, 1.0)
    ratio_range: tuple = (3 / 4, 4 / 3)
    flip: bool = True
    eval_crop_pct: float = 0.875
    interpolation: str = "bilinear"
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    label_smoothing: float = 0.0
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    randaugment_ops: int = 0
    randaugment_factor: float = 0.5
    freeze_backbone_epochs: int = 0
    eval_batch_size: int = 32
    top_k: int = 5

    def build_task(self, recipe):
        """The `ClassificationTask` of `recipe` (whose `task` is this config)."""
        from hrnet_keras.classification.task import ClassificationTask

        return ClassificationTask(recipe)
