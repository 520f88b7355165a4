"""`MaskRCNN`: Faster R-CNN plus mmdetection's FCN mask head, trained with `fit`."""

import keras
from keras import ops

from hrnet_keras.detection.faster_rcnn import LOSS_NAMES, FasterRCNN
from hrnet_keras.detection.mask_head import FCNMaskHead, class_masks, mask_loss
from hrnet_keras.detection.mask_target import mask_targets

MASK_LOSS_NAMES = (*LOSS_NAMES, "rcnn_mask")
# mmdetection's R-CNN sampler draws at most this share of positives; they come first.
POSITIVE_FRACTION = 0.25


@keras.saving.register_keras_serializable(package="hrnet_keras")
class MaskRCNN(FasterRCNN):
    """Mask R-CNN with mmdetection v2's settings: `FasterRCNN` and an `FCNMaskHead`.

    Everything of Faster R-CNN is shared (RPN, proposals, the R-CNN sampler, the box head
    and its losses); the mask head pools 14x14 RoIs from P2..P5 and predicts class-specific
    28x28 masks. Training adds the loss `rcnn_mask`: binary cross-entropy of the ground-truth
    class's mask over the positive sampled RoIs (the sampler puts them first, at most a
    quarter of `rcnn_num_samples`, so the mask head runs on those rows only). Its targets
    need, besides `"boxes"`, `"labels"` and `"crowd"`, the instance masks as the detection
    pipeline carries them (`DetectionDataConfig.masks`): `"masks"` `(B, M, G, G)` coverage
    maps of the regions `"mask_boxes"` `(B, M, 4)` (see `hrnet_keras.detection.mask_target`).

    Args:
        backbone, num_classes: as `FasterRCNN`.
        mask_roi_size: RoIAlign size of the mask head (masks are twice as large).
        mask_channels: channels of the mask head's convs.
        mask_convs: 3x3 convs of the mask head.
        **kwargs: the other arguments of `FasterRCNN`.

    Returns:
        At inference, `FasterRCNN`'s detections and `"masks"` `(B, max_detections, 28, 28)`,
        each detection's mask probabilities inside its box (zeros on padding rows);
        `hrnet_keras.detection.paste_masks` pastes them into an image.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import hrnetv2p
    >>> model = MaskRCNN(hrnetv2p(width=8, channels=16), num_classes=3, fc_channels=32,
    ...                  mask_channels=16)
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
        self.mask_head = build_mask_head(self, "mask_head")

    @property
    def loss_names(self):
        """Faster R-CNN's four losses and `rcnn_mask`."""
        return MASK_LOSS_NAMES

    def detect(self, first):
        detections = super().detect(first)
        return {**detections, "masks": detection_masks([self.mask_head], first, detections)}

    def roi_losses(self, first, targets):
        """The box head's losses and `rcnn_mask`, on one sample of RoIs."""
        check_mask_targets(self, targets)
        samples = self.rcnn_samples(first, targets)
        losses = self.box_losses(first, samples)
        losses["rcnn_mask"] = positive_mask_loss(self, self.mask_head, first, samples, targets)
        return losses

    def get_config(self):
        return {
            **super().get_config(),
            "mask_roi_size": self.mask_roi_size,
            "mask_channels": self.mask_channels,
            "mask_convs": self.mask_convs,
        }


def build_mask_head(detector, name):
    """A built `FCNMaskHead` of `detector`'s classes, pooled levels, RoIAlign window and mask
    settings (`mask_roi_size`, `mask_channels`, `mask_convs`), called `name`."""
    head = FCNMaskHead(
        detector.num_classes,
        roi_size=detector.mask_roi_size,
        strides=detector.strides[:4],
        conv_channels=detector.mask_channels,
        num_convs=detector.mask_convs,
        roi_window=detector.roi_window,
        roi_oversize=detector.roi_oversize,
        name=name,
    )
    channels = detector.backbone.output[detector.level_names[0]].shape[-1]
    head.build(([(None, None, None, channels)] * 4, (None, None, 4)))
    return head


def detection_masks(heads, first, detections):
    """`(B, M, S, S)` mask probabilities of the detections: each head's sigmoid of the
    detection label's channel, averaged over `heads` (mmdetection's `merge_aug_masks` of a
    Cascade Mask R-CNN's stages; one head: Mask R-CNN's), zeros on padding rows."""
    levels = first["levels"][:4]
    total = None
    for head in heads:
        logits = head((levels, detections["boxes"]))
        masks = ops.sigmoid(ops.cast(class_masks(logits, detections["labels"]), "float32"))
        total = masks if total is None else total + masks
    valid = detections["labels"] >= 0
    return ops.where(valid[:, :, None, None], total / len(heads), 0.0)


def check_mask_targets(detector, targets):
    """Raises unless `targets` carry the instance masks a mask head trains on."""
    for key in ("masks", "mask_boxes"):
        if key not in targets:
            raise ValueError(
                f"{type(detector).__name__}'s targets need `{key}` (a detection pipeline "
                f"with `masks=True`). Received: targets keys={sorted(targets)}"
            )


def positive_mask_loss(detector, head, first, samples, targets):
    """`mask_loss` of `head` on the positive rows of `samples` (`sample_rois`' dict).

    The sampler puts the positives first, at most a quarter of `rcnn_num_samples`, so the
    head runs on those rows only; their targets are the matched instances' masks
    (`mask_targets`) at twice the head's RoI size.
    """
    rows = max(int(detector.rcnn_num_samples * POSITIVE_FRACTION), 1)
    rois = samples["rois"][:, :rows]
    logits = head((first["levels"][:4], rois))
    goals = mask_targets(
        rois,
        samples["gt_index"][:, :rows],
        targets["masks"],
        targets["mask_boxes"],
        size=2 * detector.mask_roi_size,
    )
    return mask_loss(logits, goals, samples["labels"][:, :rows], samples["positive"][:, :rows])
