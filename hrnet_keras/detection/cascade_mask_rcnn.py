"""`CascadeMaskRCNN`: Cascade R-CNN with Mask R-CNN's FCN mask head in every stage (mmdetection
v2's `CascadeRoIHead` with `mask_head`)."""

import keras

from hrnet_keras.detection.cascade_rcnn import CascadeRCNN
from hrnet_keras.detection.mask_rcnn import (
    build_mask_head,
    check_mask_targets,
    detection_masks,
    positive_mask_loss,
)


@keras.saving.register_keras_serializable(package="hrnet_keras")
class CascadeMaskRCNN(CascadeRCNN):
    """Cascade Mask R-CNN with mmdetection v2's settings: `CascadeRCNN` and one `FCNMaskHead`
    per stage (`mask_head_{i}`, each Mask R-CNN's layout, weights of its own).

    Training: stage `i`'s mask head runs on the positive RoIs that stage sampled (at its
    IoU threshold, before its boxes are refined), with Mask R-CNN's targets and loss
    (`positive_mask_loss`), weighted by the stage's `loss_weight`: the losses `s{i}_mask`
    (mmdetection's `s{i}.loss_mask`) join `CascadeRCNN`'s. The targets need the instance
    masks as Mask R-CNN's do (`"masks"`, `"mask_boxes"`; `DetectionDataConfig.masks`).

    Inference: the detections are Cascade R-CNN's (last stage's boxes, mean of the stages'
    scores); every stage's mask head runs on those final boxes and the sigmoid of the
    detection class's channel is averaged over the stages (mmdetection's
    `CascadeRoIHead.simple_test` with `merge_aug_masks`), giving `"masks"` as Mask R-CNN's.

    Args:
        backbone, num_classes, stages, **kwargs: as `CascadeRCNN`.
        mask_roi_size, mask_channels, mask_convs: each stage's mask head, as `MaskRCNN`.

    Returns:
        At inference, `CascadeRCNN`'s detections and `"masks"` `(B, max_detections, 28, 28)`:
        each detection's mask probabilities inside its box (zeros on padding rows).

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import hrnetv2p
    >>> model = CascadeMaskRCNN(hrnetv2p(width=8, channels=16), num_classes=3, fc_channels=32,
    ...                         mask_channels=16)
    >>> [head.name for head in model.mask_heads], model.loss_names[2:5]
    (['mask_head_0', 'mask_head_1', 'mask_head_2'], ('s0_cls', 's0_bbox', 's0_mask'))
    >>> tuple(model(np.zeros((1, 64, 64, 3), "float32"))["masks"].shape)
    (1, 100, 28, 28)
    """

    def __init__(
        self, backbone, num_classes, *, mask_roi_size=14, mask_channels=256, mask_convs=4, **kwargs
    ):
        super().__init__(backbone, num_classes, **kwargs)
        self.mask_roi_size = mask_roi_size
        self.mask_channels = mask_channels
        self.mask_convs = mask_convs
        self.mask_heads = [
            build_mask_head(self, f"mask_head_{index}") for index in range(len(self.stages))
        ]

    @property
    def loss_names(self):
        """`rpn_cls`, `rpn_bbox` and `s{i}_cls`, `s{i}_bbox`, `s{i}_mask` per stage."""
        names = [(f"s{i}_cls", f"s{i}_bbox", f"s{i}_mask") for i in range(len(self.stages))]
        return ("rpn_cls", "rpn_bbox", *(name for group in names for name in group))

    def detect(self, first):
        detections = super().detect(first)
        return {**detections, "masks": detection_masks(self.mask_heads, first, detections)}

    def roi_losses(self, first, targets):
        check_mask_targets(self, targets)
        return super().roi_losses(first, targets)

    def stage_losses(self, index, first, samples, targets):
        """`s{index}_mask`: the stage's mask head on its positive samples, weighted."""
        loss = positive_mask_loss(self, self.mask_heads[index], first, samples, targets)
        return {f"s{index}_mask": self.stages[index].loss_weight * loss}

    def get_config(self):
        return {
            **super().get_config(),
            "mask_roi_size": self.mask_roi_size,
            "mask_channels": self.mask_channels,
            "mask_convs": self.mask_convs,
        }
