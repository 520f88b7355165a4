"""An independent PyTorch Faster R-CNN with HRNetV2p that computes what mmdetection v2 computes.

torchvision's `FasterRCNN` with timm's HRNet branches and mmdetection's HRFPN neck (from
`torch_hrnet_reference`), its defaults changed where they differ from mmdetection v2's
`faster_rcnn_hrnetv2p` configs at inference:

- anchors are not rounded, and use the fixed strides 4..64 (torchvision rounds the base
  anchors and derives strides from image size // feature size);
- RoIAlign is aligned=True with sampling_ratio=0, levels by mmdet's
  floor(log2(sqrt(wh) / 56 + 1e-6)) (torchvision: aligned=False, sampling_ratio=2, the epsilon
  added after the logarithm, scales inferred from feature sizes);
- box decoding clamps log-size deltas on both sides at log(1000/16) (torchvision only caps
  them from above);
- RPN proposals of zero width or height are dropped, nothing else (torchvision drops those
  under 1e-3 pixels); final detections are not filtered by size (torchvision drops those
  under 1e-2 pixels);
- GeneralizedRCNNTransform (resize, normalisation, padding) is bypassed: callers pass
  prepared, padded NCHW tensors.

Weights are random and seeded (BN statistics as `randomize` sets them), the neck and head
layers then centred and scaled on noise (`calibrate_output_scales`) so that every width gives
proposals and detections. `reference_state_dict` writes them in mmdetection v2's key layout
(background class last, 4 * num_classes regression outputs), the layout the Keras converter
reads; `load_reference_state_dict` reads that layout back; `mmdet_v1_state_dict` rewrites it
to the layout of mmdetection 1.x and of the HRNet repository's fork of it. Torch only:
nothing here imports TensorFlow.
"""

import math
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch_hrnet_reference import HRFPN, detection_state, randomize, timm_branches
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.models.detection.rpn import RPNHead
from torchvision.ops import MultiScaleRoIAlign, batched_nms, clip_boxes_to_image
from torchvision.ops import roi_align as torch_roi_align

ANCHOR_STRIDES = (4, 8, 16, 32, 64)
ANCHOR_SCALE = 8
ANCHOR_RATIOS = (0.5, 1.0, 2.0)
ROI_STRIDES = (4, 8, 16, 32)
FINEST_SCALE = 56
WH_RATIO_CLIP = 16 / 1000
# torchvision keeps proposals with width and height >= min_size; the smallest positive
# float32 turns that into mmdet's "> 0".
SMALLEST_POSITIVE_FLOAT32 = 2.0**-149


def mmdet_roi_levels(boxes, num_levels=4, finest_scale=FINEST_SCALE):
    """mmdet v2's `map_roi_levels` of (N, 4) xyxy boxes: the pyramid level of each RoI."""
    scale = torch.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    levels = torch.floor(torch.log2(scale / finest_scale + 1e-6))
    return levels.clamp(min=0, max=num_levels - 1).long()


class UnroundedAnchorGenerator(AnchorGenerator):
    """torchvision's generator with mmdet's anchors: unrounded sizes, fixed level strides."""

    def __init__(self, strides=ANCHOR_STRIDES, scale=ANCHOR_SCALE, ratios=ANCHOR_RATIOS):
        sizes = tuple((stride * scale,) for stride in strides)
        super().__init__(sizes, (tuple(ratios),) * len(strides))
        self.strides = tuple(strides)

    def generate_anchors(self, scales, aspect_ratios, dtype=torch.float32, device=None):
        scales = torch.as_tensor(scales, dtype=dtype, device=device)
        aspect_ratios = torch.as_tensor(aspect_ratios, dtype=dtype, device=device)
        h_ratios = torch.sqrt(aspect_ratios)
        ws = ((1 / h_ratios)[:, None] * scales[None, :]).reshape(-1)
        hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
        return torch.stack([-ws, -hs, ws, hs], dim=1) / 2

    def forward(self, image_list, feature_maps):
        grid_sizes = [list(feature.shape[-2:]) for feature in feature_maps]
        dtype, device = feature_maps[0].dtype, feature_maps[0].device
        strides = [[torch.tensor(s, dtype=torch.int64, device=device)] * 2 for s in self.strides]
        self.set_cell_anchors(dtype, device)
        anchors = torch.cat(self.grid_anchors(grid_sizes, strides))
        return [anchors for _ in image_list.image_sizes]


class MMDetRoIAlign(MultiScaleRoIAlign):
    """RoIAlign of P2..P5 as mmdet v2's SingleRoIExtractor does it."""

    def __init__(self, output_size=7, strides=ROI_STRIDES, finest_scale=FINEST_SCALE):
        names = [str(level) for level in range(len(strides))]
        super().__init__(featmap_names=names, output_size=output_size, sampling_ratio=0)
        self.strides = tuple(strides)
        self.finest_scale = finest_scale

    def forward(self, x, boxes, image_shapes=None):
        features = [x[name] for name in self.featmap_names]
        rois = torch.cat(
            [torch.cat([torch.full_like(b[:, :1], i), b], dim=1) for i, b in enumerate(boxes)]
        )
        levels = mmdet_roi_levels(rois[:, 1:], len(features), self.finest_scale)
        pooled = features[0].new_zeros((len(rois), features[0].shape[1], *self.output_size))
        for level, (feature, stride) in enumerate(zip(features, self.strides)):
            index = torch.where(levels == level)[0]
            pooled[index] = torch_roi_align(
                feature,
                rois[index],
                self.output_size,
                spatial_scale=1 / stride,
                sampling_ratio=0,
                aligned=True,
            )
        return pooled


class SymmetricClampBoxCoder(BoxCoder):
    """mmdet's DeltaXYWHBBoxCoder decode: |dw|, |dh| <= log(1000/16) after the stds."""

    def __init__(self, weights):
        super().__init__(weights, bbox_xform_clip=abs(math.log(WH_RATIO_CLIP)))

    def decode_single(self, rel_codes, boxes):
        rel_codes = rel_codes.clone()
        for column, weight in ((2, self.weights[2]), (3, self.weights[3])):
            limit = self.bbox_xform_clip * weight
            rel_codes[:, column::4] = rel_codes[:, column::4].clamp(-limit, limit)
        return super().decode_single(rel_codes, boxes)


class MMDetRoIHeads(RoIHeads):
    """Inference as mmdet v2's `multiclass_nms`: no minimum box size."""

    def postprocess_detections(self, class_logits, box_regression, proposals, image_shapes):
        num_classes = class_logits.shape[-1]
        per_image = [len(p) for p in proposals]
        all_boxes = self.box_coder.decode(box_regression, proposals).split(per_image)
        all_scores = F.softmax(class_logits, -1).split(per_image)
        results = ([], [], [])
        for boxes, scores, shape in zip(all_boxes, all_scores, image_shapes):
            boxes = clip_boxes_to_image(boxes, shape)[:, 1:].reshape(-1, 4)
            labels = torch.arange(1, num_classes).expand(len(scores), -1).reshape(-1)
            scores = scores[:, 1:].reshape(-1)
            keep = torch.where(scores > self.score_thresh)[0]
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
            keep = batched_nms(boxes, scores, labels, self.nms_thresh)[: self.detections_per_img]
            for collected, value in zip(results, (boxes, scores, labels)):
                collected.append(value[keep])
        return results


class HRNetV2pBackbone(nn.Module):
    """timm HRNet + HRFPN, returning torchvision's feature dict ("0".."3", "pool")."""

    def __init__(self, width, channels, seed):
        super().__init__()
        branches = timm_branches(width, seed=seed)
        in_channels = sum(branches.feature_info.channels())
        self.hrfpn = HRFPN(branches, in_channels, channels, len(ANCHOR_STRIDES))
        self.out_channels = channels

    def forward(self, x):
        levels = self.hrfpn(x)
        names = [str(level) for level in range(len(levels) - 1)] + ["pool"]
        return OrderedDict(zip(names, levels))


class _Fixed(nn.Module):
    """Stands in for the backbone while calibrating: returns branches computed once."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs = outputs

    def forward(self, x):
        return self.outputs


def _center_and_scale(layer, outputs, target):
    if not outputs:  # no RoI reached the box head
        return
    channels = torch.cat([o.transpose(0, 1).reshape(o.shape[1], -1) for o in outputs], 1)
    mean = channels.mean(1)
    spread = (channels - mean[:, None]).std()
    if spread > 0:
        with torch.no_grad():
            layer.bias.sub_(mean).mul_(target / spread)
            layer.weight.mul_(target / spread)


def calibrate_output_scales(model, seed, size=128, images=None):
    """Centres and scales the neck and head layers, in order, on seeded noise (or `images`).

    With `randomize`'s BN statistics, activations grow through the residual units and
    fusions of HRNet (std ~1e9 at W18 for unit inputs): the RPN's deltas would saturate and
    no proposal would survive. Each layer's bias is shifted so that every output channel has
    mean 0 and its weight and bias scaled so that the outputs have a fixed spread (unit for
    features, 2 for RPN logits, 0.5 for RPN deltas, 2 for class logits, 1 for box deltas):
    random weights then give proposals and a spread of detections of several classes at
    any width. The backbone is left as it is.

    Calibrated on noise, the wider backbones' RPN logits on photos reach 40 and more, where
    float32 sigmoids saturate at exactly 1 and NMS then ranks ties as it pleases; `images`
    ((B, 3, H, W) prepared, padded) calibrates on the inputs a test runs instead.
    """
    hrfpn, rpn, heads = model.backbone.hrfpn, model.rpn.head, model.roi_heads
    # Layers of one group do not feed each other: one forward pass measures them all.
    groups = [
        [(hrfpn.reduction, 1.0)],
        [(conv, 1.0) for conv in hrfpn.fpn],
        [(rpn.conv[0][0], 1.0)],
        [(rpn.cls_logits, 2.0), (rpn.bbox_pred, 0.5)],
        [(heads.box_head.fc6, 1.0)],
        [(heads.box_head.fc7, 1.0)],
        [(heads.box_predictor.cls_score, 2.0), (heads.box_predictor.bbox_pred, 1.0)],
    ]
    if images is None:
        noise = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(seed))
    else:
        noise = torch.as_tensor(np.asarray(images, np.float32))
    branches = hrfpn.backbone
    with torch.no_grad():
        hrfpn.backbone = _Fixed(branches(noise))
    try:
        for group in groups:
            outputs = {layer: [] for layer, _ in group}
            hooks = [
                layer.register_forward_hook(
                    lambda m, i, output, seen=outputs[layer]: seen.append(output)
                )
                for layer, _ in group
            ]
            reference_detect(model, noise)
            for hook in hooks:
                hook.remove()
            for layer, target in group:
                _center_and_scale(layer, outputs[layer], target)
    finally:
        hrfpn.backbone = branches
    return model


def build_reference(
    width, num_classes, *, seed, channels=256, fc_channels=1024, calibration_images=None
):
    """torchvision's FasterRCNN with mmdet v2's HRNetV2p settings and random weights.

    Args:
        width: an HRNet width `timm_branches` knows (e.g. "18-small-v1", 18, 32).
        num_classes: object classes, background not counted (80 for COCO).
        seed: seeds the initial weights and the BN statistics (randomised as `randomize`
            does; the neck and heads are then scaled by `calibrate_output_scales`) so two
            builds with one seed are identical.
        channels: the neck's and RPN's channels (256 in mmdet).
        fc_channels: the two shared fully connected layers' width (1024 in mmdet).
        calibration_images: `calibrate_output_scales`' `images` (default: seeded noise).

    Returns:
        The model, in eval mode.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        backbone = HRNetV2pBackbone(width, channels, seed)
        anchors = UnroundedAnchorGenerator()
        model = FasterRCNN(
            backbone,
            num_classes=None,
            rpn_anchor_generator=anchors,
            rpn_head=RPNHead(channels, anchors.num_anchors_per_location()[0]),
            rpn_pre_nms_top_n_train=2000,
            rpn_pre_nms_top_n_test=1000,
            rpn_post_nms_top_n_train=1000,
            rpn_post_nms_top_n_test=1000,
            rpn_nms_thresh=0.7,
            box_roi_pool=MMDetRoIAlign(),
            box_head=TwoMLPHead(channels * 7 * 7, fc_channels),
            box_predictor=FastRCNNPredictor(fc_channels, num_classes + 1),
        )
        model.rpn.box_coder = SymmetricClampBoxCoder((1.0, 1.0, 1.0, 1.0))
        model.rpn.min_size = SMALLEST_POSITIVE_FLOAT32
        old = model.roi_heads
        model.roi_heads = MMDetRoIHeads(
            old.box_roi_pool,
            old.box_head,
            old.box_predictor,
            fg_iou_thresh=0.5,
            bg_iou_thresh=0.5,
            batch_size_per_image=512,
            positive_fraction=0.25,
            bbox_reg_weights=(10.0, 10.0, 5.0, 5.0),
            score_thresh=0.05,
            nms_thresh=0.5,
            detections_per_img=100,
        )
        model.roi_heads.box_coder = SymmetricClampBoxCoder((10.0, 10.0, 5.0, 5.0))
        randomize(model, seed)
    return calibrate_output_scales(model.eval(), seed, images=calibration_images)


def _prepared(model, images, image_shapes):
    images = torch.as_tensor(np.asarray(images, np.float32))
    if image_shapes is None:
        image_shapes = [tuple(images.shape[-2:])] * len(images)
    sizes = [(int(h), int(w)) for h, w in image_shapes]
    return ImageList(images, sizes), model.backbone(images)


def reference_proposals(model, images, image_shapes=None):
    """The RPN's proposals per image: a list of (n_i, 4) xyxy float32 arrays (n_i <= 1000),
    sorted by descending objectness.

    Args:
        model: from `build_reference`.
        images: (B, 3, H, W) normalised, padded float32 (tensor or array).
        image_shapes: optional (h, w) per image, the unpadded size boxes are clipped to.
    """
    with torch.no_grad():
        image_list, features = _prepared(model, images, image_shapes)
        proposals, _ = model.rpn(image_list, features)
    return [p.numpy() for p in proposals]


def reference_detect(model, images, image_shapes=None):
    """Inference without GeneralizedRCNNTransform: prepared, padded NCHW tensors in.

    Args:
        model: from `build_reference`.
        images: (B, 3, H, W) normalised, padded float32 (tensor or array).
        image_shapes: optional (h, w) per image, the unpadded size boxes are clipped to.

    Returns:
        Per image a dict of numpy arrays: `boxes` (n, 4) xyxy input pixels, `scores` (n,),
        `labels` (n,) int64 contiguous 0..num_classes-1 (background removed), n <= 100,
        sorted by descending score.
    """
    with torch.no_grad():
        image_list, features = _prepared(model, images, image_shapes)
        proposals, _ = model.rpn(image_list, features)
        detections, _ = model.roi_heads(features, proposals, image_list.image_sizes)
    return [
        {
            "boxes": d["boxes"].numpy(),
            "scores": d["scores"].numpy(),
            "labels": d["labels"].numpy() - 1,
        }
        for d in detections
    ]


def _head_layout(model):
    """(mmdet v2 prefix, torchvision module) of each layer outside backbone and neck."""
    rpn, heads = model.rpn.head, model.roi_heads
    return {
        "rpn_head.rpn_conv": rpn.conv[0][0],
        "rpn_head.rpn_cls": rpn.cls_logits,
        "rpn_head.rpn_reg": rpn.bbox_pred,
        "roi_head.bbox_head.shared_fcs.0": heads.box_head.fc6,
        "roi_head.bbox_head.shared_fcs.1": heads.box_head.fc7,
        "roi_head.bbox_head.fc_cls": heads.box_predictor.cls_score,
        "roi_head.bbox_head.fc_reg": heads.box_predictor.bbox_pred,
    }


def reference_state_dict(model):
    """The weights as a flat dict of numpy arrays in mmdetection v2's key layout.

    `backbone.*` (the HRNet as mmdet/official HRNet name it), `neck.reduction_conv.conv.*`,
    `neck.fpn_convs.{i}.conv.*`, `rpn_head.rpn_{conv,cls,reg}.*`,
    `roi_head.bbox_head.shared_fcs.{0,1}.*` (input flattened NCHW, as torchvision's),
    `roi_head.bbox_head.fc_cls.*` (num_classes + 1 rows, background LAST) and
    `roi_head.bbox_head.fc_reg.*` (4 * num_classes rows: torchvision's background rows dropped).
    """
    state = detection_state(model.backbone.hrfpn, mmdet_v2=True)
    for prefix, module in _head_layout(model).items():
        for name, value in module.state_dict().items():
            state[f"{prefix}.{name}"] = value
    for name in ("weight", "bias"):
        cls = state[f"roi_head.bbox_head.fc_cls.{name}"]
        state[f"roi_head.bbox_head.fc_cls.{name}"] = torch.cat([cls[1:], cls[:1]])
        state[f"roi_head.bbox_head.fc_reg.{name}"] = state[f"roi_head.bbox_head.fc_reg.{name}"][4:]
    return {key: value.detach().numpy().copy() for key, value in state.items()}


def load_reference_state_dict(model, state):
    """Loads a `reference_state_dict` (mmdet v2 layout) into a `build_reference` model.

    The background class's regression rows, which mmdet does not have and inference never
    reads, are set to zero.
    """
    state = {key: torch.as_tensor(np.asarray(value)) for key, value in state.items()}
    mapped = {}
    for key, value in state.items():
        if key.startswith("backbone."):
            mapped["backbone.hrfpn." + key] = value
        elif key.startswith("neck.reduction_conv.conv."):
            mapped["backbone.hrfpn.reduction." + key.rsplit(".", 1)[1]] = value
        elif key.startswith("neck.fpn_convs."):
            level, name = key.split(".")[2], key.rsplit(".", 1)[1]
            mapped[f"backbone.hrfpn.fpn.{level}.{name}"] = value
    names = {id(m): n for n, m in model.named_modules()}
    for prefix, module in _head_layout(model).items():
        for name in ("weight", "bias"):
            value = state[f"{prefix}.{name}"]
            if prefix.endswith("fc_cls"):
                value = torch.cat([value[-1:], value[:-1]])
            elif prefix.endswith("fc_reg"):
                value = torch.cat([torch.zeros_like(value[:4]), value])
            mapped[f"{names[id(module)]}.{name}"] = value
    model.load_state_dict(mapped, strict=True)
    return model


def mmdet_v1_state_dict(state, seed=0):
    """A `reference_state_dict` rewritten to mmdetection 1.x's layout, as the HRNet
    repository's detection code saves it: the box head as `bbox_head.*` (no `roi_head.`),
    the background class FIRST in `fc_cls`, `fc_reg` with 4 * (num_classes + 1) rows (the
    background's first; seeded noise here, as inference never reads them) and the neck as
    `neck.reduction_conv.0.*` and `neck.fpn_conv.{i}.*`. The same model, another layout.
    """
    generator = np.random.default_rng(seed)
    out = {}
    for key, value in state.items():
        if key.startswith("neck.reduction_conv.conv."):
            key = "neck.reduction_conv.0." + key.rsplit(".", 1)[1]
        elif key.startswith("neck.fpn_convs."):
            level, name = key.split(".")[2], key.rsplit(".", 1)[1]
            key = f"neck.fpn_conv.{level}.{name}"
        elif key.startswith("roi_head.bbox_head."):
            key = key[len("roi_head.") :]
            if key.startswith("bbox_head.fc_cls."):
                value = np.concatenate([value[-1:], value[:-1]])
            elif key.startswith("bbox_head.fc_reg."):
                background = generator.normal(size=(4, *value.shape[1:])).astype(value.dtype)
                value = np.concatenate([background, value])
        out[key] = value
    return out
