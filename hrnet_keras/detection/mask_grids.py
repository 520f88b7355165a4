"""Instance masks as the detection pipeline carries them: coverage maps around each box.

Each instance becomes a `grid x grid` map of the region that extends its box by one cell
on every side (cell size `(x2 - x1) / (grid - 2)` across, likewise down): a cell holds the
share of its area the mask covers, as uint8 0..255. The maps resize and flip with the
image by moving their region; `hrnet_keras.detection.mask_target` pools the RoIs' targets
from them. 64 x 64 bytes an instance instead of a padded image-sized bitmap (1344 x 1344);
a positive RoI spans at most twice its box, so a 28x28 target bin covers at least a cell
of the map (about 2.2 for a RoI the size of its box).
"""

import numpy as np

DEFAULT_GRID = 64


def mask_region(box, grid=DEFAULT_GRID):
    """The region `(x1, y1, x2, y2)` of an instance's map: its box and one cell around it."""
    x1, y1, x2, y2 = (float(v) for v in box)
    cell_w = (x2 - x1) / (grid - 2)
    cell_h = (y2 - y1) / (grid - 2)
    return np.array([x1 - cell_w, y1 - cell_h, x2 + cell_w, y2 + cell_h], np.float32)


def _area_weights(low, high, grid, length):
    """`(grid, length)`: the share of each map cell's extent that each pixel covers."""
    edges = low + (high - low) * np.arange(grid + 1, dtype=np.float64) / grid
    pixels = np.arange(length, dtype=np.float64)
    overlap = np.minimum(edges[1:, None], pixels[None, :] + 1.0) - np.maximum(
        edges[:-1, None], pixels[None, :]
    )
    return np.maximum(overlap, 0.0) / ((high - low) / grid)


def mask_grid(mask, box, grid=DEFAULT_GRID):
    """One instance's coverage map and its region.

    Args:
        mask: `(h, w)` 0/1 bitmap at the image's size (`CocoIndex.mask`, `annToMask`).
        box: its `xyxy` box in the same pixels.
        grid: the map's size.

    Returns:
        `(coverage, region)`: `(grid, grid)` uint8 (255 = fully covered) and the float32
        `xyxy` region (`mask_region`).

    Example:
    >>> mask = np.zeros((8, 8), np.uint8); mask[2:6, 2:4] = 1
    >>> coverage, region = mask_grid(mask, [2, 2, 6, 6], grid=6)
    >>> region.tolist()
    [1.0, 1.0, 7.0, 7.0]
    >>> (coverage[1:5, 1:5] // 255).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]]
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"`mask` must be (h, w). Received: mask.shape={mask.shape}")
    region = mask_region(box, grid)
    weights_y = _area_weights(region[1], region[3], grid, mask.shape[0])
    weights_x = _area_weights(region[0], region[2], grid, mask.shape[1])
    coverage = weights_y @ (mask > 0).astype(np.float64) @ weights_x.T
    return np.clip(np.round(coverage * 255.0), 0, 255).astype(np.uint8), region


def split_mask_grids(split, i, grid=DEFAULT_GRID):
    """The maps and regions of image `i` of a `DetectionSplit`, one per box row.

    Crowd rows get empty maps (crowd regions are never positive RoIs' ground truth).

    Returns:
        `((n, grid, grid) uint8, (n, 4) float32)` in the image's original pixels.
    """
    start, end = int(split.row_splits[i]), int(split.row_splits[i + 1])
    maps = np.zeros((end - start, grid, grid), np.uint8)
    regions = np.zeros((end - start, 4), np.float32)
    for k, row in enumerate(range(start, end)):
        regions[k] = mask_region(split.boxes[row], grid)
        if split.crowd[row]:
            continue
        annotation = split.index.annotation(split.annotation_ids[row])
        if "segmentation" not in annotation:
            raise ValueError(
                f"Mask R-CNN needs a `segmentation` in every annotation; the annotation "
                f"{annotation.get('id')!r} of {split.index.source} has none. "
                f"Received: keys={sorted(annotation)}"
            )
        maps[k], regions[k] = mask_grid(split.index.mask(annotation), split.boxes[row], grid)
    return maps, regions
