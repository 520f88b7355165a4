"""An independent PyTorch Mask R-CNN: torchvision's `MaskRCNN` heads on the Faster R-CNN
reference (`torch_faster_rcnn_reference`, mmdetection v2's HRNetV2p settings).

The mask branch is torchvision's: `MaskRCNNHeads` (four 3x3 convs + ReLU), `MaskRCNNPredictor`
(a 2x2 stride-2 transposed conv + ReLU, a 1x1 conv to `num_classes + 1` masks, background
first) and `maskrcnn_inference` (the detection label's channel, sigmoid), on RoIAlign 14x14
of P2..P5 with mmdetection's levels (`MMDetRoIAlign`). Weights are random and seeded, each
mask layer centred and scaled on the photos like the other heads. `mask_state_dict` writes
the mask head in mmdetection v2's keys (`roi_head.mask_head.*`, no background channel).
Torch only.
"""

import numpy as np
import torch
from torch_faster_rcnn_reference import (
    MMDetRoIAlign,
    _center_and_scale,
    _prepared,
    build_reference,
    reference_state_dict,
)
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor


def build_mask_reference(
    width,
    num_classes,
    *,
    seed,
    channels=256,
    fc_channels=1024,
    mask_channels=256,
    calibration_images=None,
):
    """`build_reference` plus torchvision's mask branch, in eval mode."""
    model = build_reference(
        width,
        num_classes,
        seed=seed,
        channels=channels,
        fc_channels=fc_channels,
        calibration_images=calibration_images,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed + 1)
        heads = model.roi_heads
        heads.mask_roi_pool = MMDetRoIAlign(output_size=14)
        heads.mask_head = MaskRCNNHeads(channels, [mask_channels] * 4, 1)
        heads.mask_predictor = MaskRCNNPredictor(mask_channels, mask_channels, num_classes + 1)
        for module in heads.mask_head.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.normal_(module.bias, 0.0, 0.1)
    model.eval()
    if calibration_images is not None:
        _calibrate_masks(model, calibration_images)
    return model


def _calibrate_masks(model, images):
    """Centres and scales each mask layer on the images' detections (as the other heads)."""
    heads = model.roi_heads
    layers = [block[0] for block in heads.mask_head] + [
        heads.mask_predictor.conv5_mask,
        heads.mask_predictor.mask_fcn_logits,
    ]
    targets = [1.0] * (len(layers) - 1) + [2.0]
    for layer, target in zip(layers, targets):
        seen = []
        hook = layer.register_forward_hook(lambda m, i, output, seen=seen: seen.append(output))
        reference_masks(model, images)
        hook.remove()
        _center_and_scale(layer, seen, target)


def reference_masks(model, images, image_shapes=None):
    """Detections with their 28x28 mask probabilities (before pasting), per image.

    Returns:
        A dict per image: `boxes`, `scores`, `labels` (0-based) and `masks` `(n, 28, 28)`.
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
            "masks": d["masks"][:, 0].numpy(),
        }
        for d in detections
    ]


def mask_state_dict(model):
    """`reference_state_dict` plus the mask head in mmdetection v2's layout."""
    state = reference_state_dict(model)
    heads = model.roi_heads
    for i, block in enumerate(heads.mask_head):
        for name, value in block[0].state_dict().items():
            state[f"roi_head.mask_head.convs.{i}.conv.{name}"] = value.numpy().copy()
    predictor = heads.mask_predictor
    for name, value in predictor.conv5_mask.state_dict().items():
        state[f"roi_head.mask_head.upsample.{name}"] = value.numpy().copy()
    for name, value in predictor.mask_fcn_logits.state_dict().items():
        # torchvision's background channel first; mmdetection has none.
        state[f"roi_head.mask_head.conv_logits.{name}"] = value.numpy()[1:].copy()
    return state


def paste_reference(masks, boxes, height, width):
    """mmdetection v2's `_do_paste_mask` in torch (`grid_sample` of each 28x28 mask over the
    image's pixel centres, zeros outside), thresholded at 0.5.

    torchvision's own `paste_masks_in_image` resizes each mask into its rounded, one-pixel
    enlarged box instead; on the noisy masks of random weights the two pastings disagree at
    many pixels, so the parity test compares the model outputs under one pasting rule, the
    one the library implements (mmdetection's, which its COCO numbers come from).
    """
    masks = torch.from_numpy(np.ascontiguousarray(masks, np.float32))[:, None]
    boxes = torch.from_numpy(np.ascontiguousarray(boxes, np.float32))
    x0, y0, x1, y1 = boxes.unbind(1)
    ys = (torch.arange(height, dtype=torch.float32) + 0.5)[None] - y0[:, None]
    ys = ys / (y1 - y0)[:, None] * 2 - 1
    xs = (torch.arange(width, dtype=torch.float32) + 0.5)[None] - x0[:, None]
    xs = xs / (x1 - x0)[:, None] * 2 - 1
    count = len(masks)
    grid = torch.stack(
        [
            xs[:, None, :].expand(count, height, width),
            ys[:, :, None].expand(count, height, width),
        ],
        dim=3,
    )
    pasted = torch.nn.functional.grid_sample(masks, grid, align_corners=False)
    return pasted[:, 0].numpy() >= 0.5
