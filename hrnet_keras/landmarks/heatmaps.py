"""Gaussian heatmap targets on the stride-4 grid."""

import tensorflow as tf


def gaussian_heatmaps(points, size=64, sigma=1.5, *, round_centers=True):
    """One Gaussian of peak 1 per landmark, `(size, size, K)`; zero for points off the grid.

    As the reference, the centre is rounded to the nearest cell (so the peak cell is exactly
    1) and the Gaussian is cut beyond 3 sigma; `round_centers=False` keeps sub-pixel centres.

    Args:
        points: `(K, 2)` landmarks in heatmap pixels (x, y).
        size: the heatmap side.
        sigma: standard deviation in heatmap pixels.

    Example:
    >>> h = gaussian_heatmaps([[3.0, 2.0], [-9.0, 2.0]], size=8, sigma=1.0)
    >>> float(h[2, 3, 0]), float(h[2, 4, 0]) == float(tf.exp(-0.5)), float(tf.reduce_max(h[..., 1]))
    (1.0, True, 0.0)
    """
    points = tf.cast(tf.convert_to_tensor(points), tf.float32)
    centers = tf.round(points) if round_centers else points
    grid = tf.range(size, dtype=tf.float32)
    dx = grid[None, :] - centers[:, 0:1]  # (K, size)
    dy = grid[None, :] - centers[:, 1:2]
    radius = 3.0 * sigma
    gx = tf.where(tf.abs(dx) <= radius, tf.exp(-(dx**2) / (2 * sigma**2)), 0.0)
    gy = tf.where(tf.abs(dy) <= radius, tf.exp(-(dy**2) / (2 * sigma**2)), 0.0)
    heatmaps = gy[:, :, None] * gx[:, None, :]  # (K, y, x)
    inside = tf.reduce_all((centers >= 0) & (centers <= size - 1), axis=1)
    heatmaps = heatmaps * tf.cast(inside, tf.float32)[:, None, None]
    return tf.transpose(heatmaps, (1, 2, 0))
