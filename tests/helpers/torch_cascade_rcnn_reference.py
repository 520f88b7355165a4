"""An independent PyTorch Cascade R-CNN at mmdetection v2's inference settings, from torchvision
ops.

The backbone, HRFPN neck and RPN are `torch_faster_rcnn_reference`'s (torchvision's RPN at
mmdetection's settings); the cascade is a loop written here over torchvision pieces:
`MultiScaleRoIAlign` at mmdetection's level mapping (`MMDetRoIAlign`), `TwoMLPHead` and two
linear layers per stage (classes with the background LAST, as mmdetection's `fc_cls`, and 4
class-agnostic deltas), torchvision's `BoxCoder` (weights 1 / stds, the size deltas clamped
on both sides as mmdetection does), `clip_boxes_to_image` and `batched_nms`. At inference,
as mmdetection's `CascadeRoIHead.simple_test`: each stage pools the boxes the previous stage
refined (decoded with that stage's stds and clipped to the image), the stages' class logits
are averaged and soft-maxed, the last stage's deltas decode its input boxes once for all
classes, scores above 0.05 enter per-class NMS at 0.5 and the best 100 are kept.

Weights are random and seeded, the stage heads centred and scaled on the inputs a test runs
(as `calibrate_output_scales` does for Faster R-CNN). `cascade_state_dict` writes them in
mmdetection v2's key layout (`roi_head.bbox_head.{stage}.*`). Torch only.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch_faster_rcnn_reference import (
    SymmetricClampBoxCoder,
    _center_and_scale,
    _head_layout,
    _prepared,
    build_reference,
)
from torch_hrnet_reference import detection_state, randomize
from torchvision.models.detection.faster_rcnn import TwoMLPHead
from torchvision.ops import batched_nms, clip_boxes_to_image

# mmdetection's cascade_rcnn_r50_fpn: the stds of the three stages.
STAGE_STDS = ((0.1, 0.1, 0.2, 0.2), (0.05, 0.05, 0.1, 0.1), (0.033, 0.033, 0.067, 0.067))


class CascadeStageHead(nn.Module):
    """One stage: two shared fcs (`TwoMLPHead`), class logits (background last), 4 deltas."""

    def __init__(self, in_channels, fc_channels, num_classes):
        super().__init__()
        self.box_head = TwoMLPHead(in_channels, fc_channels)
        self.cls_score = nn.Linear(fc_channels, num_classes + 1)
        self.bbox_pred = nn.Linear(fc_channels, 4)

    def forward(self, pooled):
        x = self.box_head(pooled)
        return self.cls_score(x), self.bbox_pred(x)


class CascadeReference(nn.Module):
    """The Faster R-CNN reference's backbone and RPN, then `len(stds)` cascade stages."""

    def __init__(self, faster, num_classes, fc_channels, stds=STAGE_STDS):
        super().__init__()
        self.faster = faster
        channels = faster.backbone.out_channels
        self.stages = nn.ModuleList(
            CascadeStageHead(channels * 7 * 7, fc_channels, num_classes) for _ in stds
        )
        self.coders = [SymmetricClampBoxCoder(tuple(1.0 / s for s in std)) for std in stds]
        self.num_classes = num_classes

    def stage_loop(self, features, proposals, image_sizes):
        """`(rois, mean logits, last deltas)` per image, from proposals per image."""
        pool = self.faster.roi_heads.box_roi_pool
        counts = [len(p) for p in proposals]
        rois, logits_sum = proposals, 0
        for index, (stage, coder) in enumerate(zip(self.stages, self.coders)):
            logits, deltas = stage(pool(features, rois, image_sizes))
            logits_sum = logits_sum + logits
            if index + 1 < len(self.stages):
                boxes = coder.decode_single(deltas, torch.cat(rois)).split(counts)
                rois = [clip_boxes_to_image(b, s) for b, s in zip(boxes, image_sizes)]
        mean = logits_sum / len(self.stages)
        return rois, mean.split(counts), deltas.split(counts)

    def postprocess(self, rois, logits, deltas, image_sizes, score=0.05, iou=0.5, top=100):
        """mmdetection's `multiclass_nms` of class-agnostic boxes."""
        results = []
        for boxes, scores, box_deltas, size in zip(rois, logits, deltas, image_sizes):
            boxes = clip_boxes_to_image(self.coders[-1].decode_single(box_deltas, boxes), size)
            scores = F.softmax(scores, -1)[:, : self.num_classes]
            boxes = boxes[:, None, :].expand(-1, self.num_classes, 4).reshape(-1, 4)
            labels = torch.arange(self.num_classes).expand(len(scores), -1).reshape(-1)
            scores = scores.reshape(-1)
            keep = torch.where(scores > score)[0]
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
            keep = batched_nms(boxes, scores, labels, iou)[:top]
            results.append(
                {
                    "boxes": boxes[keep].numpy(),
                    "scores": scores[keep].numpy(),
                    "labels": labels[keep].numpy(),
                }
            )
        return results


def _features_and_proposals(model, images, image_shapes):
    with torch.no_grad():
        image_list, features = _prepared(model.faster, images, image_shapes)
        proposals, _ = model.faster.rpn(image_list, features)
    return features, proposals, image_list.image_sizes


def cascade_detect(model, images, image_shapes=None):
    """Per image `{"boxes", "scores", "labels"}` numpy arrays (labels 0..K-1), sorted by
    descending score; `images` are prepared, padded NCHW."""
    features, proposals, sizes = _features_and_proposals(model, images, image_shapes)
    with torch.no_grad():
        return model.postprocess(*model.stage_loop(features, proposals, sizes), sizes)


def _calibrate_stages(model, features, proposals, sizes):
    """Centres and scales each stage's layers in order on the given features and proposals:
    unit spread for the fcs, 2 for the logits, 1 for the deltas."""
    groups = []
    for stage in model.stages:
        groups += [
            [(stage.box_head.fc6, 1.0)],
            [(stage.box_head.fc7, 1.0)],
            [(stage.cls_score, 2.0), (stage.bbox_pred, 1.0)],
        ]
    for group in groups:
        outputs = {layer: [] for layer, _ in group}
        hooks = [
            layer.register_forward_hook(
                lambda m, i, output, seen=outputs[layer]: seen.append(output)
            )
            for layer, _ in group
        ]
        with torch.no_grad():
            model.stage_loop(features, proposals, sizes)
        for hook in hooks:
            hook.remove()
        for layer, target in group:
            _center_and_scale(layer, outputs[layer], target)


def build_cascade_reference(
    width, num_classes, *, seed, channels=256, fc_channels=1024, calibration_images
):
    """A `CascadeReference` with seeded random weights, in eval mode.

    Args:
        width, num_classes, seed, channels, fc_channels: as `build_reference`.
        calibration_images: `(B, 3, H, W)` prepared, padded inputs the backbone, RPN and
            the stage heads are calibrated on.
    """
    faster = build_reference(
        width,
        num_classes,
        seed=seed,
        channels=channels,
        fc_channels=fc_channels,
        calibration_images=calibration_images,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed + 1)
        model = CascadeReference(faster, num_classes, fc_channels)
        randomize(model.stages, seed + 1)
    model.eval()
    features, proposals, sizes = _features_and_proposals(
        model, torch.as_tensor(np.asarray(calibration_images, np.float32)), None
    )
    _calibrate_stages(model, features, proposals, sizes)
    return model


def cascade_state_dict(model):
    """The weights as a flat dict of numpy arrays in mmdetection v2's Cascade R-CNN layout:
    `backbone.*`, `neck.*`, `rpn_head.*` and `roi_head.bbox_head.{stage}.shared_fcs.{0,1}.*`,
    `fc_cls.*` (background last), `fc_reg.*` (4 rows)."""
    faster = model.faster
    state = detection_state(faster.backbone.hrfpn, mmdet_v2=True)
    for prefix, module in _head_layout(faster).items():
        if prefix.startswith("rpn_head."):
            for name, value in module.state_dict().items():
                state[f"{prefix}.{name}"] = value
    for index, stage in enumerate(model.stages):
        prefix = f"roi_head.bbox_head.{index}"
        layers = {
            "shared_fcs.0": stage.box_head.fc6,
            "shared_fcs.1": stage.box_head.fc7,
            "fc_cls": stage.cls_score,
            "fc_reg": stage.bbox_pred,
        }
        for name, module in layers.items():
            for param, value in module.state_dict().items():
                state[f"{prefix}.{name}.{param}"] = value
    return {key: value.detach().numpy().copy() for key, value in state.items()}
