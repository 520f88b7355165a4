"""COCO instance masks: run-length encodings (compressed or not) and polygons, to pixels.

The results equal pycocotools' `annToMask` pixel for pixel: polygons are rasterised by the
same rule (vertices on a 5x finer grid, the outline walked one fine step at a time, a pixel
inside when its centre lies between two crossings of its column).
"""

import numpy as np

# pycocotools rasterises polygons on a grid this many times finer than the pixels.
_FINE = 5


def _counts_from_string(text):
    """COCO's compressed counts: 6-bit chars, 5 payload bits each, deltas after the third."""
    counts = []
    p = 0
    data = text.encode() if isinstance(text, str) else text
    while p < len(data):
        x = 0
        k = 0
        more = True
        while more:
            c = data[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def decode_rle(rle):
    """A `{"size": [h, w], "counts": str | list}` mask as a (h, w) uint8 array of 0/1.

    Example:
    >>> decode_rle({"size": [2, 3], "counts": [1, 2, 3]}).tolist()
    [[0, 1, 0], [1, 0, 0]]
    """
    height, width = rle["size"]
    counts = rle["counts"]
    if isinstance(counts, (str, bytes)):
        counts = _counts_from_string(counts)
    values = np.arange(len(counts)) % 2
    flat = np.repeat(values.astype(np.uint8), np.asarray(counts, dtype=np.int64))
    if flat.size != height * width:
        raise ValueError(
            f"The run lengths cover {flat.size} pixels, not {height}x{width}. "
            f"Received: size={rle['size']}"
        )
    # COCO masks run down the columns (Fortran order).
    return flat.reshape((width, height)).T


def _outline(xs, ys):
    """Integer points on the fine grid along every edge of a closed polygon, in order."""
    us, vs = [], []
    for x0, y0, x1, y1 in zip(xs, ys, np.roll(xs, -1), np.roll(ys, -1)):
        dx, dy = abs(x1 - x0), abs(y1 - y0)
        # Each edge is walked from its lower end along its longer axis, then listed in the
        # edge's own direction, so that the rounding is the same whichever way it points.
        backwards = (x0 > x1) if dx >= dy else (y0 > y1)
        if backwards:
            x0, y0, x1, y1 = x1, y1, x0, y0
        if dx >= dy:
            t = np.arange(dx + 1)
            t = dx - t if backwards else t
            slope = (y1 - y0) / dx if dx else 0.0
            us.append(t + x0)
            vs.append(np.trunc(y0 + slope * t + 0.5).astype(np.int64))
        else:
            t = np.arange(dy + 1)
            t = dy - t if backwards else t
            slope = (x1 - x0) / dy
            vs.append(t + y0)
            us.append(np.trunc(x0 + slope * t + 0.5).astype(np.int64))
    return np.concatenate(us), np.concatenate(vs)


def polygon_mask(polygon, height, width):
    """One polygon `[x0, y0, x1, y1, ...]` (pixel coordinates) as a (h, w) uint8 mask.

    Example:
    >>> polygon_mask([1, 1, 4, 1, 4, 3, 1, 3], 4, 5).tolist()
    [[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]]
    """
    points = np.asarray(polygon, np.float64).reshape(-1, 2)
    # C's (int) cast: truncation towards zero.
    xs = np.trunc(_FINE * points[:, 0] + 0.5).astype(np.int64)
    ys = np.trunc(_FINE * points[:, 1] + 0.5).astype(np.int64)
    u, v = _outline(xs, ys)
    # Where the outline changes fine column, it crosses a pixel column's centre line (or not).
    change = np.nonzero(u[1:] != u[:-1])[0] + 1
    left = np.where(u[change] < u[change - 1], u[change], u[change] - 1)
    column = (left + 0.5) / _FINE - 0.5
    row = (np.minimum(v[change], v[change - 1]) + 0.5) / _FINE - 0.5
    keep = (np.floor(column) == column) & (column >= 0) & (column <= width - 1)
    column = column[keep].astype(np.int64)
    row = np.ceil(np.clip(row[keep], 0, height)).astype(np.int64)
    # Each crossing toggles inside/outside from its pixel on, down the column-major order.
    toggles = np.bincount(column * height + row, minlength=height * width + 1)[: height * width]
    flat = (np.cumsum(toggles) % 2).astype(np.uint8)
    return flat.reshape((width, height)).T


def segmentation_mask(segmentation, height, width):
    """A COCO `segmentation` (polygons, or an RLE dict) as a (h, w) uint8 mask of 0/1.

    Polygons are united; an RLE's own size must be `(height, width)`.
    """
    if isinstance(segmentation, dict):
        mask = decode_rle(segmentation)
        if mask.shape != (height, width):
            raise ValueError(
                f"The RLE is {mask.shape[0]}x{mask.shape[1]}, its image {height}x{width}. "
                f"Received: size={segmentation['size']}"
            )
        return mask
    mask = np.zeros((height, width), np.uint8)
    for polygon in segmentation:
        mask |= polygon_mask(polygon, height, width)
    return mask
