"""Per-axis weights of RoIAlign: which feature cells a RoI's bins read, and how much.

torchvision's RoIAlign averages, over `grid` sample points a bin and axis, the bilinear
interpolation of the map; bilinear weights are a product of a row and a column weight, so
each output bin is `A_y[ph] . F . A_x[pw]^T` with one weight vector per output row and
column. These are those vectors, for a window of cells of a given (static, or dynamic
outside XLA) size.
"""

from keras import ops


def axis_extent(low_edge, high_edge, aligned):
    """`(roi_start, length)` of one axis in feature cells, as torchvision computes them."""
    offset = 0.5 if aligned else 0.0
    roi_start = low_edge - offset
    length = (high_edge - offset) - roi_start
    if not aligned:
        length = ops.maximum(length, 1.0)
    return roi_start, length


def axis_needs(low_edge, high_edge, size, out, sampling_ratio, aligned):
    """What an axis needs to be pooled exactly: cells read and samples a bin.

    Returns:
        `(start, cells, grid)`: the first cell read (float32), the number of cells from it
        that get a weight (int32, at least 1; cells past the map are never read) and the
        samples a bin (float32), each `(B, R)`.
    """
    roi_start, length = axis_extent(low_edge, high_edge, aligned)
    first = ops.minimum(roi_start, roi_start + length)
    last = ops.maximum(roi_start, roi_start + length)
    start = ops.clip(ops.floor(ops.maximum(first, 0.0)), 0.0, size - 1.0)
    # Samples lie below the RoI's end and are clipped to the map; the cell after the last
    # sample's gets a weight too, unless past the map.
    end = ops.clip(ops.floor(ops.clip(last, 0.0, size)) + 1.0, 0.0, size - 1.0)
    cells = ops.cast(ops.maximum(end - start, 0.0), "int32") + 1
    if sampling_ratio > 0:
        grid = ops.full_like(length, float(sampling_ratio))
    else:
        grid = ops.ceil(length / float(out))
    return start, cells, grid


def axis_weights(
    low_edge, high_edge, size, out, window, samples, sampling_ratio, aligned, first_sample=None
):
    """Weights of the cells of one axis, for each output index of that axis.

    Args:
        low_edge, high_edge: `(B, R)` RoI edges along the axis, in feature cells.
        size: `(B, R)` float32 length of the feature map along the axis.
        out: number of output bins along the axis.
        window: number of cells, counted from `start`, that get a weight (an int, or an
            int32 scalar tensor outside XLA).
        samples: cap on the number of samples a bin (int or int32 scalar tensor); with
            `first_sample`, the number of samples weighed, the grid is not capped.
        sampling_ratio, aligned: as in `roi_align`.
        first_sample: `(B, R, out)` float32 index of each bin's first sample, if not 0: the
            bin's samples `first_sample .. first_sample + samples - 1` are weighed.

    Returns:
        `(weights, start)`: `(B, R, out, window)` float32 weights and `(B, R)` int32 index of
        the window's first cell.
    """
    roi_start, length = axis_extent(low_edge, high_edge, aligned)
    bin_size = length / float(out)
    if sampling_ratio > 0:
        grid = ops.full_like(bin_size, float(sampling_ratio))
    elif first_sample is not None:
        grid = ops.ceil(bin_size)
    else:
        # Past the cap, `samples` evenly spaced samples a bin: torchvision's result with
        # that sampling_ratio, where the adaptive grid would need more.
        grid = ops.minimum(ops.ceil(bin_size), ops.cast(samples, "float32"))
    # The samples of torchvision's loops, in the same float32 operation order so that floor()
    # lands on the same cell: start + p * bin + ((s + 0.5) * bin) / grid.
    bins = ops.reshape(ops.arange(out, dtype="float32"), (1, 1, out, 1))
    steps = ops.reshape(ops.arange(samples, dtype="float32"), (1, 1, 1, -1))
    if first_sample is not None:
        steps = steps + ops.expand_dims(first_sample, -1)
    steps = steps + 0.5
    roi_start_, bin_, grid_ = (
        ops.expand_dims(ops.expand_dims(t, -1), -1) for t in (roi_start, bin_size, grid)
    )
    size_ = ops.expand_dims(ops.expand_dims(size, -1), -1)
    pos = (roi_start_ + bins * bin_) + (steps * bin_) / ops.maximum(grid_, 1.0)
    used = ops.logical_and(steps < grid_, ops.logical_and(pos >= -1.0, pos <= size_))
    if first_sample is not None:
        used = ops.logical_and(used, steps > 0.0)
    pos = ops.clip(pos, 0.0, size_)
    low = ops.floor(pos)
    at_end = low >= size_ - 1.0
    low = ops.where(at_end, size_ - 1.0, low)
    frac = ops.where(at_end, 0.0, pos - low)
    high = ops.where(at_end, low, low + 1.0)
    # A fixed `sampling_ratio` also samples RoIs of negative size, backwards from their start.
    first = ops.minimum(roi_start, roi_start + length)
    start = ops.clip(ops.floor(ops.maximum(first, 0.0)), 0.0, size - 1.0)
    start_ = ops.expand_dims(ops.expand_dims(start, -1), -1)
    share = ops.where(used, 1.0 / ops.maximum(grid_, 1.0), 0.0)
    cells = ops.reshape(ops.arange(window, dtype="float32"), (1, 1, 1, 1, -1))
    low_hit = ops.cast(ops.expand_dims(low - start_, -1) == cells, "float32")
    high_hit = ops.cast(ops.expand_dims(high - start_, -1) == cells, "float32")
    weights = low_hit * ops.expand_dims(share * (1.0 - frac), -1) + high_hit * ops.expand_dims(
        share * frac, -1
    )
    return ops.sum(weights, axis=3), ops.cast(start, "int32")
