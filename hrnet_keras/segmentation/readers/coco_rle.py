"""Decoding of COCO run-length-encoded masks (the `segmentation` of PASCAL in Detail's json)."""

import numpy as np


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
