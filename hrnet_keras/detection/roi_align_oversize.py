"""Exact RoIAlign of the RoIs larger than the static window, and when to use it.

`roi_align`'s static window pools RoIs up to its size exactly; the others (long thin
boxes, boxes larger than a level) are pooled again here, each from a window sized to it.
Their number and sizes are known only when the graph runs, which XLA cannot compile: under
`jit_compile=True` RoIAlign keeps the static window's approximation (`"auto"`).
"""

import keras

from hrnet_keras.detection.roi_align_weights import axis_extent, axis_needs, axis_weights

OVERSIZE_MODES = ("auto", "exact", "approximate")
# RoIs whose windows' gradients are held at once before they are added to the maps'.
GRADIENT_CHUNK = 16


def check_oversize(oversize):
    if oversize not in OVERSIZE_MODES:
        raise ValueError(
            f"`oversize` must be one of {OVERSIZE_MODES}. Received: oversize={oversize!r}"
        )
    return oversize


def in_xla_compilation():
    """Whether the ops being traced go to XLA (`tf.function(jit_compile=True)`, Keras'
    `jit_compile`): TensorFlow marks such graphs with an XLA control-flow context."""
    if keras.backend.backend() != "tensorflow":
        return False
    from tensorflow.python.framework import ops as tf_ops
    from tensorflow.python.ops import control_flow_util

    return control_flow_util.GraphOrParentsInXlaContext(tf_ops.get_default_graph())


def pools_oversize_exactly(oversize="auto"):
    """Whether RoIAlign with `oversize` pools the RoIs larger than its window exactly here.

    `"auto"` is exact with the TensorFlow backend outside XLA, approximate under XLA and with
    other backends; `"exact"` raises where it cannot be (under XLA, other backends).

    Example:
    >>> pools_oversize_exactly("auto"), pools_oversize_exactly("approximate")
    (True, False)
    """
    check_oversize(oversize)
    if oversize == "approximate":
        return False
    possible = keras.backend.backend() == "tensorflow" and not in_xla_compilation()
    if oversize == "exact" and not possible:
        raise ValueError(
            "RoIAlign pools RoIs larger than its window exactly with TensorFlow outside XLA "
            "only (their windows' sizes are dynamic); use oversize='auto' or 'approximate' "
            "under `jit_compile=True` or with another backend. Received: oversize='exact' "
            f"with backend={keras.backend.backend()!r}, XLA={in_xla_compilation()}"
        )
    return possible


def pool_oversize(
    table, num_cells, pooled, oversize, per_roi, output_size, sampling_ratio, aligned
):
    """`pooled` with the RoIs `oversize` marks pooled again, exactly, one window a RoI.

    Each such RoI reads the cells it needs (sized to it, clipped to its map) with the
    samples a bin it needs (those on the map, for RoIs much larger than it). TensorFlow only:
    the number of such RoIs and their windows' sizes are known only when it runs, which XLA
    cannot compile.

    Args:
        table: `(B * N, C)` cells of all levels and images.
        num_cells: N, the cells of one image's levels.
        pooled: `(B, R, out_h, out_w, C)` float32 result of the static window.
        oversize: `(B, R)` bool.
        per_roi: `(x1, y1, x2, y2)` in feature cells and `(heights, widths, offsets)` of
            each RoI's level, `(B, R)` each.
    """
    import tensorflow as tf

    out_h, out_w = output_size
    channels = table.shape[-1]
    where = tf.where(oversize)
    x1, y1, x2, y2, heights, widths, offsets = (tf.gather_nd(t, where) for t in per_roi)
    first_cell = tf.cast(where[:, 0], "int32") * num_cells + offsets

    def axis(low_edge, high_edge, size, out):
        low_edge, high_edge = tf.reshape(low_edge, (1, 1)), tf.reshape(high_edge, (1, 1))
        size = tf.reshape(tf.cast(size, "float32"), (1, 1))
        _, cells, grid = axis_needs(low_edge, high_edge, size, out, sampling_ratio, aligned)
        samples, first_sample = sampling_ratio, None
        if sampling_ratio <= 0:
            # Samples of a bin are at least half a cell apart: at most 2 * size + 3 of them
            # fall on the map (from -1 to size). A bin with more samples weighs a run of
            # `bound` from a little before its first on the map; the others are outside.
            bound = 2.0 * size + 6.0
            samples = tf.cast(tf.clip_by_value(grid, 1.0, bound), "int32")[0, 0]
            roi_start, length = axis_extent(low_edge, high_edge, aligned)
            bin_size = length / float(out)
            bins = roi_start[..., None] + tf.range(out, dtype="float32") * bin_size[..., None]
            first = tf.floor((-1.0 - bins) * grid[..., None] / bin_size[..., None] - 0.5) - 1.0
            first = tf.clip_by_value(first, 0.0, tf.maximum(grid - bound, 0.0)[..., None])
            first_sample = tf.where(grid[..., None] > bound[..., None], first, 0.0)
        weights, start = axis_weights(
            low_edge,
            high_edge,
            size,
            out,
            cells[0, 0],
            samples,
            sampling_ratio,
            aligned,
            first_sample=first_sample,
        )
        return weights[0, 0], start[0, 0] + tf.range(cells[0, 0])

    def window(i):
        weights_y, rows = axis(y1[i], y2[i], heights[i], out_h)
        weights_x, cols = axis(x1[i], x2[i], widths[i], out_w)
        index = first_cell[i] + rows[:, None] * widths[i] + cols[None, :]
        return weights_y, weights_x, tf.reshape(index, (-1, 1))

    count = tf.shape(where)[0]

    # The gradient is written out: differentiating the loop adds a map-sized gradient for
    # every RoI. Here the windows' gradients of GRADIENT_CHUNK RoIs are added at once.
    @tf.custom_gradient
    def exact_pool(table):
        def pool_one(i):
            weights_y, weights_x, index = window(i)
            cells = tf.cast(tf.gather_nd(table, index), "float32")
            cells = tf.reshape(cells, (tf.shape(weights_y)[1], -1))
            one = tf.reshape(tf.matmul(weights_y, cells), (out_h, -1, channels))
            return tf.einsum("pxc,qx->pqc", one, weights_x)

        # A few RoIs at a time: each holds its window (a whole level at most) while it runs.
        exact = tf.map_fn(
            pool_one,
            tf.range(count),
            fn_output_signature=tf.TensorSpec((out_h, out_w, channels), "float32"),
            parallel_iterations=1 if tf.executing_eagerly() else 4,
        )

        def grad(upstream):
            def add_chunk(begin, total):
                end = tf.minimum(begin + GRADIENT_CHUNK, count)

                def add_one(i, indices, values):
                    weights_y, weights_x, index = window(i)
                    one = tf.einsum("pqc,qx->pxc", upstream[i], weights_x)
                    cells = tf.matmul(weights_y, tf.reshape(one, (out_h, -1)), transpose_a=True)
                    cells = tf.reshape(cells, (-1, channels))
                    return i + 1, indices.write(i - begin, index), values.write(i - begin, cells)

                arrays = (
                    tf.TensorArray(
                        "int32", end - begin, infer_shape=False, element_shape=(None, 1)
                    ),
                    tf.TensorArray(
                        "float32", end - begin, infer_shape=False, element_shape=(None, channels)
                    ),
                )
                _, indices, values = tf.while_loop(lambda i, *_: i < end, add_one, (begin, *arrays))
                return end, tf.tensor_scatter_nd_add(total, indices.concat(), values.concat())

            total = tf.zeros(tf.shape(table), "float32")
            _, total = tf.while_loop(lambda begin, _: begin < count, add_chunk, (0, total))
            return tf.cast(total, table.dtype)

        return exact, grad

    return tf.tensor_scatter_nd_update(pooled, where, exact_pool(table))
