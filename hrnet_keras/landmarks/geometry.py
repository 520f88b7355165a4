"""The crop's affine transform: centre/scale crop, zoom, rotation and flip in one matrix.

Coordinates are pixel coordinates with pixel centres at integers. The face box (side
`scale * 200 * crop_scale`, centred on `center`) maps onto the `output_size` square; the
rotation turns the content about the box centre, and the flip mirrors the crop
(`x -> output_size - 1 - x`), exactly as `crop[:, ::-1]` does.
"""

import math

import numpy as np
import tensorflow as tf

from hrnet_keras.landmarks.annotations import SCALE_UNIT


def crop_matrix(center, scale, *, output_size=256, crop_scale=1.25, rotation=0.0, flip=False):
    """The 3x3 matrix from original-image to crop pixels.

    Args:
        center: `(2,)` box centre (x, y).
        scale: box side / 200; the crop spans `scale * 200 * crop_scale` pixels.
        output_size: the square crop's side.
        crop_scale: margin around the box (1.25 in the reference).
        rotation: degrees, counter-clockwise in the picture.
        flip: mirror the crop horizontally (a bool or a scalar bool tensor).

    Returns:
        A float32 `(3, 3)` tensor.

    Example:
    >>> m = crop_matrix([100.0, 50.0], 1.0, output_size=250, crop_scale=1.0)
    >>> transform_points(m, [[100.0, 50.0], [200.0, 50.0]]).numpy().tolist()
    [[124.5, 124.5], [249.5, 124.5]]
    """
    center = tf.cast(tf.convert_to_tensor(center), tf.float32)
    zoom = output_size / (tf.cast(scale, tf.float32) * (SCALE_UNIT * crop_scale))
    angle = -tf.cast(rotation, tf.float32) * (math.pi / 180.0)  # image y points down
    cos, sin = tf.cos(angle) * zoom, tf.sin(angle) * zoom
    mirror = tf.where(tf.cast(flip, tf.bool), -1.0, 1.0)
    linear = tf.stack([tf.stack([mirror * cos, -mirror * sin]), tf.stack([sin, cos])])
    half = (output_size - 1) / 2.0
    translation = half - tf.linalg.matvec(linear, center)
    top = tf.concat([linear, translation[:, None]], axis=1)
    return tf.concat([top, tf.constant([[0.0, 0.0, 1.0]])], axis=0)


def transform_points(matrix, points):
    """`points` `(..., K, 2)` through the affine `matrix` `(..., 3, 3)`.

    Example:
    >>> transform_points([[2.0, 0, 1], [0, 2.0, 0], [0, 0, 1]], [[1.0, 1.0]]).numpy().tolist()
    [[3.0, 2.0]]
    """
    matrix = tf.cast(matrix, tf.float32)
    points = tf.cast(points, tf.float32)
    return (
        tf.linalg.matmul(points, matrix[..., :2, :2], transpose_b=True) + matrix[..., None, :2, 2]
    )


def warp_to_crop(image, matrix, output_size=256):
    """Bilinear warp of `image` `(H, W, C)` into the `output_size` crop of `matrix`; zeros outside.

    Example:
    >>> image = tf.reshape(tf.range(16.0), (4, 4, 1))
    >>> m = tf.constant([[1.0, 0, -1], [0, 1.0, -1], [0, 0, 1]])  # shift by one pixel
    >>> warp_to_crop(image, m, 2)[..., 0].numpy().tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """
    inverse = tf.linalg.inv(tf.cast(matrix, tf.float32))
    # The op maps each output pixel to the input point it samples: crop -> image.
    transform = tf.reshape(inverse, [-1])[:8][None]
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(image, tf.float32)[None],
        transforms=transform,
        output_shape=tf.constant([output_size, output_size], tf.int32),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return warped[0]


def crop_to_heatmap(points, stride=4):
    """Crop pixels to heatmap pixels (heatmap cell `j` averages crop pixels `stride*j ...`).

    Example:
    >>> crop_to_heatmap(np.array([1.5, 255.0]))
    array([ 0.   , 63.375])
    """
    return (points + 0.5) / stride - 0.5


def heatmap_to_crop(points, stride=4):
    """Heatmap pixels to crop pixels, the inverse of `crop_to_heatmap`.

    Example:
    >>> heatmap_to_crop(np.array([0.0, 63.0]))
    array([  1.5, 253.5])
    """
    return (points + 0.5) * stride - 0.5


def crop_to_image(points, center, scale, *, output_size=256, crop_scale=1.25):
    """Crop pixels back to original-image pixels (the inverse crop transform), in NumPy.

    Args:
        points: `(..., K, 2)` crop coordinates.
        center / scale: the face's box, `(..., 2)` and `(...)`.

    Example:
    >>> crop_to_image(np.array([[127.5, 127.5]]), np.array([40.0, 30.0]), 1.0).tolist()
    [[40.0, 30.0]]
    """
    points = np.asarray(points, np.float64)
    center = np.asarray(center, np.float64)
    side = np.asarray(scale, np.float64) * SCALE_UNIT * crop_scale
    zoom = (side / output_size)[..., None, None]
    return (points - (output_size - 1) / 2.0) * zoom + center[..., None, :]
