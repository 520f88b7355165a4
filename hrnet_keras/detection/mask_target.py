"""Mask R-CNN's mask targets: each positive RoI's ground-truth mask cropped and resized.

mmdetection v2 (`mask_target`) pools each instance's full-image bitmap over the RoI with
`roi_align` (`aligned=True`, adaptive sampling) to 28x28 and binarises at 0.5. Carrying full
bitmaps for every instance of a batch costs `max_boxes` image-sized planes a picture, so
the pipeline carries each instance as a `grid x grid` coverage map of a region around its
box instead (`hrnet_keras.detection.mask_grids`): a cell holds the share of its area that
the mask covers, and the region leaves one empty cell around the box. The targets are
RoIAlign of these maps (same sample points as torchvision's, in the map's cells) thresholded
at 0.5; they agree with the bitmap's targets except on the few boundary cells whose
bilinear value lies near 0.5: on the COCO person samples, RoIs jittered around each box,
99.8% of the 28x28 cells on average and at least 97.6% for every RoI
(`tests/detection/test_mask_rcnn_targets.py`).
"""

from keras import ops


def grid_weights(low_edge, high_edge, size, out, samples=8):
    """RoIAlign's bilinear sample weights along one axis, over every cell of a small map.

    torchvision's sample points (`aligned=True`, `ceil(bin)` samples a bin, at most
    `samples`) and its border rules (samples more than a cell outside read zero, samples
    within a cell outside read the border cell).

    Args:
        low_edge, high_edge: `(B, R)` the RoI's edges in map cells (continuous coordinates,
            cell `k` spans `[k, k + 1)`).
        size: the map's length in cells (a Python int).
        out: output bins.
        samples: the most samples a bin.

    Returns:
        `(B, R, out, size)` float32 weights.
    """
    low_edge = ops.cast(low_edge, "float32")
    high_edge = ops.cast(high_edge, "float32")
    start = low_edge - 0.5
    bin_size = (high_edge - low_edge) / float(out)
    grid = ops.clip(ops.ceil(bin_size), 1.0, float(samples))
    bins = ops.reshape(ops.arange(out, dtype="float32"), (1, 1, out, 1))
    steps = ops.reshape(ops.arange(samples, dtype="float32"), (1, 1, 1, samples)) + 0.5
    start_, bin_, grid_ = (t[:, :, None, None] for t in (start, bin_size, grid))
    pos = (start_ + bins * bin_) + (steps * bin_) / grid_
    used = ops.logical_and(steps < grid_, ops.logical_and(pos >= -1.0, pos <= float(size)))
    pos = ops.clip(pos, 0.0, float(size))
    low = ops.floor(pos)
    at_end = low >= size - 1.0
    low = ops.where(at_end, size - 1.0, low)
    frac = ops.where(at_end, 0.0, pos - low)
    high = ops.where(at_end, low, low + 1.0)
    share = ops.where(used, 1.0 / grid_, 0.0)
    cells = ops.reshape(ops.arange(size, dtype="float32"), (1, 1, 1, 1, size))
    weights = ops.cast(low[..., None] == cells, "float32") * (share * (1.0 - frac))[..., None]
    weights = weights + ops.cast(high[..., None] == cells, "float32") * (share * frac)[..., None]
    return ops.sum(weights, axis=3)


def mask_targets(rois, gt_index, gt_masks, gt_mask_boxes, size=28):
    """Binary `size x size` targets of each RoI from its matched instance's coverage map.

    Args:
        rois: `(B, R, 4)` xyxy RoIs in input pixels.
        gt_index: `(B, R)` int, the ground-truth row each RoI is matched to.
        gt_masks: `(B, M, G, G)` coverage maps (uint8 0..255 or float 0..1).
        gt_mask_boxes: `(B, M, 4)` xyxy region of each map in input pixels.
        size: target size.

    Returns:
        `(B, R, size, size)` float32 of 0 and 1.

    Example:
    >>> import numpy as np
    >>> grid = np.zeros((1, 1, 6, 6), "float32"); grid[0, 0, 1:5, 1:3] = 1.0  # left half
    >>> out = mask_targets([[[10.0, 10.0, 50.0, 50.0]]], [[0]], grid, [[[0.0, 0.0, 60.0, 60.0]]],
    ...                    size=4)
    >>> np.asarray(out)[0, 0].tolist()
    [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    """
    gt_masks = ops.convert_to_tensor(gt_masks)
    scale = 255.0 if gt_masks.dtype == "uint8" else 1.0
    grid = gt_masks.shape[-1]
    index = ops.cast(gt_index, "int32")
    maps = ops.take_along_axis(
        ops.cast(gt_masks, "float32") / scale, index[:, :, None, None], axis=1
    )
    regions = ops.take_along_axis(ops.cast(gt_mask_boxes, "float32"), index[..., None], axis=1)
    rois = ops.cast(rois, "float32")
    cell_w = ops.maximum(regions[..., 2] - regions[..., 0], 1e-6) / grid
    cell_h = ops.maximum(regions[..., 3] - regions[..., 1], 1e-6) / grid
    weights_x = grid_weights(
        (rois[..., 0] - regions[..., 0]) / cell_w,
        (rois[..., 2] - regions[..., 0]) / cell_w,
        grid,
        size,
    )
    weights_y = grid_weights(
        (rois[..., 1] - regions[..., 1]) / cell_h,
        (rois[..., 3] - regions[..., 1]) / cell_h,
        grid,
        size,
    )
    pooled = ops.einsum("bryk,brkl->bryl", weights_y, maps)
    pooled = ops.einsum("bryl,brxl->bryx", pooled, weights_x)
    return ops.stop_gradient(ops.cast(pooled >= 0.5, "float32"))
