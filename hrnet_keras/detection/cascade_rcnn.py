"""`CascadeRCNN`: Faster R-CNN whose box head is three heads in a row, each trained at a higher
IoU on the boxes the previous one refined (mmdetection v2's `CascadeRoIHead`)."""

import dataclasses

import keras
from keras import ops

from hrnet_keras.detection.box_coder import clip_boxes, decode_boxes
from hrnet_keras.detection.faster_rcnn import RCNN_SALT, FasterRCNN
from hrnet_keras.detection.postprocess import detections_from_rois
from hrnet_keras.detection.roi_head import rcnn_loss, sample_rois


@dataclasses.dataclass(frozen=True)
class CascadeStage:
    """The settings of one cascade stage.

    Attributes:
        iou_threshold: the IoU from which a RoI is a positive of this stage (also the
            negatives' bound and the least IoU of a match).
        stds: the box coder's stds of this stage's deltas.
        loss_weight: the factor of this stage's two losses.
    """

    iou_threshold: float
    stds: tuple
    loss_weight: float

    def __post_init__(self):
        stds = tuple(float(s) for s in self.stds)
        if len(stds) != 4 or min(stds) <= 0:
            raise ValueError(f"`stds` are four positive numbers. Received: stds={self.stds!r}")
        if not 0.0 < self.iou_threshold <= 1.0:
            raise ValueError(
                f"`iou_threshold` lies in (0, 1]. Received: iou_threshold={self.iou_threshold!r}"
            )
        object.__setattr__(self, "stds", stds)


# mmdetection's `cascade_rcnn_r50_fpn` (and its HRNet configs): IoU 0.5 / 0.6 / 0.7, the
# stds halved from stage to stage (about), loss weights 1 / 0.5 / 0.25.
CASCADE_STAGES = (
    CascadeStage(0.5, (0.1, 0.1, 0.2, 0.2), 1.0),
    CascadeStage(0.6, (0.05, 0.05, 0.1, 0.1), 0.5),
    CascadeStage(0.7, (0.033, 0.033, 0.067, 0.067), 0.25),
)


def _stage(value):
    if isinstance(value, CascadeStage):
        return value
    if isinstance(value, dict):
        return CascadeStage(**value)
    raise ValueError(
        f"Each of `stages` is a `CascadeStage` or a dict of its fields. Received: stage={value!r}"
    )


def refine_rois(rois, box_deltas, image_shape, stds):
    """The RoIs moved by a stage's class-agnostic deltas, clipped to their image, without
    gradient (mmdetection's `regress_by_class` under `torch.no_grad`).

    Args:
        rois: `(B, R, 4)` xyxy.
        box_deltas: `(B, R, 4)` the stage's deltas.
        image_shape: `(B, 2)` `(height, width)` to clip to.
        stds: the stage's box coder stds.

    Returns:
        `(B, R, 4)` boxes.

    Example:
    >>> import numpy as np
    >>> refined = refine_rois(np.array([[[0.0, 0, 10, 10]]]), np.array([[[1.0, 0, 0, 0]]]),
    ...                       np.array([[20, 20]]), (0.1, 0.1, 0.2, 0.2))
    >>> np.asarray(refined).tolist()
    [[[1.0, 0.0, 11.0, 10.0]]]
    """
    boxes = decode_boxes(ops.stop_gradient(rois), ops.stop_gradient(box_deltas), stds)
    return ops.stop_gradient(clip_boxes(boxes, image_shape))


@keras.saving.register_keras_serializable(package="hrnet_keras")
class CascadeRCNN(FasterRCNN):
    """Cascade R-CNN with mmdetection v2's settings: Faster R-CNN's backbone, RPN and RoIAlign,
    then one class-agnostic Shared2FC box head per stage (`stages`, `CASCADE_STAGES`).

    Training (`compute_loss`): stage 1 samples `rcnn_num_samples` RoIs from the proposals
    plus the ground truth, assigned at its IoU threshold; its head's losses count with its
    weight; the sampled RoIs, ground-truth boxes dropped, are moved by its deltas (clipped,
    no gradient) and are the next stage's proposals, which again get the ground truth added
    and are sampled at that stage's IoU. The losses are `rpn_cls`, `rpn_bbox` and
    `s{i}_cls`, `s{i}_bbox` per stage, weighted (mmdetection's `s{i}.loss_cls`, ...).
    Each RoI keeps the identity of its proposal's anchor from stage to stage, and the
    samplers draw a RoI's random number for that identity, not for its row: proposals whose
    scores are one rounding apart rank either way on another device or batch and still
    sample the same RoIs in every stage.

    Inference (`call`): every stage's head runs on the previous stage's refined boxes (all
    proposals); the class logits of the stages are averaged, softmax after (mmdetection
    averages `cls_score`, the logits, and its `get_bboxes` applies the softmax), and the
    last stage's deltas (its stds) decode the boxes it was given, then per-class NMS.

    A stage-wise extension (e.g. a mask head per stage) overrides `stage_losses` and adds
    its names to `loss_names`; `detect` returns the dict a subclass can add to.

    Args:
        backbone, num_classes, **kwargs: as `FasterRCNN` (the box head settings apply to
            each stage's head).
        stages: the stages' `CascadeStage`s (or dicts of their fields).
        train_max_proposals: proposals per image after the RPN's NMS while training
            (mmdetection's cascade configs: 2000; inference keeps `max_proposals`).
        rpn_smooth_l1_beta / rcnn_smooth_l1_beta: smooth L1 box losses as mmdetection's
            cascade configs have them (1/9 for the RPN, 1 for the stages).

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import hrnetv2p
    >>> model = CascadeRCNN(hrnetv2p(width=8, channels=16), num_classes=3, fc_channels=32)
    >>> [head.name for head in model.roi_heads], model.loss_names[2:4]
    (['bbox_head_0', 'bbox_head_1', 'bbox_head_2'], ('s0_cls', 's0_bbox'))
    >>> sorted(model(np.zeros((1, 64, 64, 3), "float32")))
    ['boxes', 'labels', 'num_detections', 'scores']
    """

    def __init__(
        self,
        backbone,
        num_classes,
        *,
        stages=CASCADE_STAGES,
        train_max_proposals=2000,
        rpn_smooth_l1_beta=1.0 / 9.0,
        rcnn_smooth_l1_beta=1.0,
        **kwargs,
    ):
        if isinstance(stages, (str, bytes, dict)) or not stages:
            raise ValueError(
                f"`stages` is a non-empty sequence of stages. Received: stages={stages!r}"
            )
        self.stages = tuple(_stage(s) for s in stages)
        super().__init__(
            backbone,
            num_classes,
            train_max_proposals=train_max_proposals,
            rpn_smooth_l1_beta=rpn_smooth_l1_beta,
            rcnn_smooth_l1_beta=rcnn_smooth_l1_beta,
            **kwargs,
        )

    @property
    def loss_names(self):
        stages = [(f"s{i}_cls", f"s{i}_bbox") for i in range(len(self.stages))]
        return ("rpn_cls", "rpn_bbox", *(name for pair in stages for name in pair))

    def build_box_heads(self, channels, **kwargs):
        heads = []
        for index in range(len(self.stages)):
            head = self.box_head(name=f"bbox_head_{index}", class_agnostic=True, **kwargs)
            head.build(([(None, None, None, channels)] * 4, (None, None, 4)))
            heads.append(head)
        self.roi_heads = heads
        return heads

    def detect(self, first):
        levels, image_shape = first["levels"][:4], first["image_shape"]
        rois = first["proposals"]
        logits_sum = None
        for index, (head, stage) in enumerate(zip(self.roi_heads, self.stages)):
            class_logits, box_deltas = head((levels, rois))
            class_logits = ops.cast(class_logits, "float32")
            logits_sum = class_logits if logits_sum is None else logits_sum + class_logits
            if index + 1 < len(self.stages):
                rois = refine_rois(rois, box_deltas, image_shape, stage.stds)
        return detections_from_rois(
            logits_sum / len(self.stages),
            box_deltas,
            rois,
            first["proposal_valid"],
            image_shape,
            score_threshold=self.score_threshold,
            iou_threshold=self.nms_iou_threshold,
            max_detections=self.max_detections,
            stds=self.stages[-1].stds,
        )

    def roi_losses(self, first, targets):
        """Each stage's weighted `s{i}_cls`, `s{i}_bbox` (and `stage_losses`)."""
        levels, image_shape = first["levels"][:4], first["image_shape"]
        proposals, valid = first["proposals"], first["proposal_valid"]
        # Each RoI keeps its anchor's identity through the stages: the samplers draw for
        # it, so proposals that swap ranks (scores one rounding apart, as another device
        # can round them) sample the same RoIs in every stage.
        ids = first["proposal_ids"]
        num_ids = sum(ops.shape(anchors)[0] for anchors in first["anchors"])
        losses = {}
        for index, (head, stage) in enumerate(zip(self.roi_heads, self.stages)):
            samples = sample_rois(
                proposals,
                valid,
                targets,
                num_classes=self.num_classes,
                # Each stage its own salt: per-example keys as Faster R-CNN's samplers.
                seed=self.sampler_seed(targets, RCNN_SALT + index),
                num_samples=self.rcnn_num_samples,
                iou_threshold=stage.iou_threshold,
                stds=stage.stds,
                proposal_ids=ids,
                num_proposal_ids=num_ids,
            )
            class_logits, box_deltas = head((levels, samples["rois"]))
            classification, box = rcnn_loss(
                class_logits,
                box_deltas,
                samples,
                self.num_classes,
                smooth_l1_beta=self.rcnn_smooth_l1_beta,
            )
            losses[f"s{index}_cls"] = stage.loss_weight * classification
            losses[f"s{index}_bbox"] = stage.loss_weight * box
            losses.update(self.stage_losses(index, first, samples, targets))
            if index + 1 < len(self.stages):
                proposals = refine_rois(samples["rois"], box_deltas, image_shape, stage.stds)
                valid = ops.logical_and(
                    samples["valid"], ops.logical_not(samples["from_ground_truth"])
                )
                ids = samples["proposal_ids"]
        return losses

    def stage_losses(self, index, first, samples, targets):
        """Losses of stage `index` besides its box head's, on its `samples`: none here."""
        return {}

    def get_config(self):
        return {
            **super().get_config(),
            "stages": [dataclasses.asdict(stage) for stage in self.stages],
        }
