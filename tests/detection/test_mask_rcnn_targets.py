"""Mask R-CNN's data side: coverage maps, RoI targets against mmdetection's bitmap targets
(pycocotools' annToMask pooled by torchvision's roi_align), pasting against NumPy."""

import json
import os

import numpy as np
import pytest

from hrnet_keras.detection.mask_grids import mask_grid, mask_region
from hrnet_keras.detection.mask_paste import paste_masks
from hrnet_keras.detection.mask_target import mask_targets

PERSONS = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data", "coco_persons"
)


def _persons():
    path = os.path.join(PERSONS, "test_coco.json")
    if not os.path.exists(path):
        pytest.skip(f"needs the COCO samples in {PERSONS}")
    with open(path) as f:
        return json.load(f)


def _jittered_rois(box, rng, count):
    """RoIs around a box (IoU >= 0.5 with it), as positives are."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    rois = []
    while len(rois) < count:
        dx1, dy1, dx2, dy2 = rng.uniform(-0.15, 0.15, 4)
        roi = (x1 + dx1 * w, y1 + dy1 * h, x2 + dx2 * w, y2 + dy2 * h)
        inter = max(0, min(roi[2], x2) - max(roi[0], x1)) * max(
            0, min(roi[3], y2) - max(roi[1], y1)
        )
        union = w * h + (roi[2] - roi[0]) * (roi[3] - roi[1]) - inter
        if inter / union >= 0.5:
            rois.append(roi)
    return np.asarray(rois, np.float32)


def test_targets_agree_with_mmdet_bitmap_targets_polygons_and_rle():
    torch = pytest.importorskip("torch")
    from pycocotools import mask as mask_utils
    from torchvision.ops import roi_align

    from hrnet_keras.data.coco_masks import segmentation_mask

    data = _persons()
    rng = np.random.default_rng(0)
    images = {image["id"]: image for image in data["images"]}
    agreements = []
    for annotation in data["annotations"]:
        image = images[annotation["image_id"]]
        height, width = image["height"], image["width"]
        polygon = annotation["segmentation"]
        bitmap = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygon, height, width)))
        rle = mask_utils.encode(np.asfortranarray(bitmap))
        rle = {"size": rle["size"], "counts": rle["counts"].decode()}
        # The library's rasteriser is pycocotools' annToMask, for polygons and RLE alike.
        np.testing.assert_array_equal(segmentation_mask(polygon, height, width), bitmap)
        np.testing.assert_array_equal(segmentation_mask(rle, height, width), bitmap)
        x, y, w, h = annotation["bbox"]
        box = (x, y, x + w, y + h)
        rois = _jittered_rois(box, rng, 8)
        # mmdetection v2's mask_target: roi_align(aligned=True, sampling_ratio=0) of the bitmap.
        indexed = torch.cat([torch.zeros(len(rois), 1), torch.from_numpy(rois)], 1)
        want = (
            roi_align(
                torch.from_numpy(bitmap[None, None].astype(np.float32)), indexed, 28, 1.0, 0, True
            )[:, 0].numpy()
            >= 0.5
        )
        coverage, region = mask_grid(bitmap, box)
        got = np.asarray(
            mask_targets(
                rois[None],
                np.zeros((1, len(rois)), "int32"),
                coverage[None, None],
                region[None, None],
            )
        )[0]
        assert set(np.unique(got)) <= {0.0, 1.0}
        agreements.extend((got.astype(bool) == want).mean(axis=(1, 2)))
    agreements = np.asarray(agreements)
    # Only cells whose bilinear value is near 0.5 can differ.
    assert agreements.min() >= 0.97 and agreements.mean() >= 0.99, (
        agreements.min(),
        agreements.mean(),
    )


def test_mask_grid_region_and_coverage_of_a_rectangle():
    mask = np.zeros((40, 60), np.uint8)
    mask[10:30, 20:50] = 1
    coverage, region = mask_grid(mask, (20, 10, 50, 30), grid=8)
    np.testing.assert_allclose(region, mask_region((20, 10, 50, 30), 8))
    np.testing.assert_allclose(region, [15, 10 - 20 / 6, 55, 30 + 20 / 6], rtol=1e-6)
    assert (coverage[1:7, 1:7] == 255).all()
    assert (coverage[0] == 0).all() and (coverage[:, -1] == 0).all()
    with pytest.raises(ValueError, match=r"mask\.shape"):
        mask_grid(np.zeros((2, 2, 2)), (0, 0, 1, 1))


def _paste_reference(mask, box, height, width):
    """mmdetection's `_do_paste_mask` written out: `grid_sample`, one pixel at a time."""
    size = mask.shape[0]
    x1, y1, x2, y2 = box
    out = np.zeros((height, width), np.float64)
    for py in range(height):
        v = (py + 0.5 - y1) / (y2 - y1) * size - 0.5
        for px in range(width):
            u = (px + 0.5 - x1) / (x2 - x1) * size - 0.5
            i0, j0 = int(np.floor(v)), int(np.floor(u))
            total = 0.0
            for i, wy in ((i0, 1 - (v - i0)), (i0 + 1, v - i0)):
                for j, wx in ((j0, 1 - (u - j0)), (j0 + 1, u - j0)):
                    if 0 <= i < size and 0 <= j < size:
                        total += wy * wx * mask[i, j]
            out[py, px] = total
    return out


def test_paste_masks_matches_the_reference():
    rng = np.random.default_rng(1)
    masks = rng.uniform(0, 1, (3, 28, 28)).astype(np.float32)
    boxes = np.array(
        [[3.2, 5.7, 30.1, 22.4], [-5.0, 10.0, 20.0, 50.0], [0.0, 0.0, 48.0, 40.0]], np.float32
    )
    probabilities = np.asarray(paste_masks(masks, boxes, 40, 48, threshold=None))
    binary = np.asarray(paste_masks(masks, boxes, 40, 48))
    for k in range(3):
        want = _paste_reference(masks[k], boxes[k], 40, 48)
        np.testing.assert_allclose(probabilities[k], want, atol=1e-5)
        np.testing.assert_array_equal(binary[k], want >= 0.5)


def test_paste_masks_matches_torch_grid_sample():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    masks = rng.uniform(0, 1, (2, 28, 28)).astype(np.float32)
    boxes = np.array([[10.3, 4.1, 60.2, 33.3], [0.0, 20.0, 70.0, 64.0]], np.float32)
    height, width = 64, 72
    ys = (torch.arange(height) + 0.5)[None] - torch.from_numpy(boxes[:, 1:2])
    ys = ys / torch.from_numpy(boxes[:, 3:4] - boxes[:, 1:2]) * 2 - 1
    xs = (torch.arange(width) + 0.5)[None] - torch.from_numpy(boxes[:, 0:1])
    xs = xs / torch.from_numpy(boxes[:, 2:3] - boxes[:, 0:1]) * 2 - 1
    grid = torch.stack(
        [xs[:, None, :].expand(2, height, width), ys[:, :, None].expand(2, height, width)], -1
    )
    want = torch.nn.functional.grid_sample(
        torch.from_numpy(masks)[:, None], grid, align_corners=False
    )[:, 0].numpy()
    got = np.asarray(paste_masks(masks, boxes, height, width, threshold=None))
    np.testing.assert_allclose(got, want, atol=1e-5)
