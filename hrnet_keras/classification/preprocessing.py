"""The geometry of classification inputs, in TensorFlow ops: PIL's resize, the evaluation crop
(resize the shorter side, centre crop) and the random resized crop of training.

The official HRNet code and timm train and evaluate on PIL images through torchvision:
`Resize(256)` + `CenterCrop(224)` for evaluation, `RandomResizedCrop(224)` for training.
`resize_like_pil` reproduces PIL's resampling in the graph (antialiased when shrinking, the
width resampled first, then the height, each pass rounded to 8-bit values): on real photos it
differs from PIL in 0.1-2% of the pixels, by one grey level (the evaluation crops of the
sample photos: 0.1-0.3%); a single float pass, as `tf.image.resize` does, differs in 15% of
them. The same functions run in the `tf.data` pipelines and in the exported serving graph.
"""

import math

import tensorflow as tf

INTERPOLATIONS = ("bilinear", "bicubic")


def check_interpolation(interpolation):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {INTERPOLATIONS}. "
            f"Received: interpolation={interpolation!r}"
        )
    return interpolation


def _round_to_pixels(images):
    return tf.clip_by_value(tf.round(images), 0.0, 255.0)


def resize_like_pil(images, size, interpolation="bilinear"):
    """Resizes `(..., h, w, 3)` images to `size = (height, width)` as PIL's `Image.resize`.

    Args:
        images: uint8 or float32 (values 0-255), one image or a batch.
        size: the output `(height, width)` (ints or int32 scalars).
        interpolation: `"bilinear"` or `"bicubic"` (PIL's filters; antialiased when shrinking).

    Returns:
        float32 images holding whole numbers in 0-255.

    Example:
    >>> import numpy as np
    >>> image = np.arange(16, dtype="uint8").reshape(4, 4, 1).repeat(3, axis=-1)
    >>> resize_like_pil(image, (2, 2))[..., 0].numpy().tolist()
    [[4.0, 5.0], [10.0, 11.0]]
    """
    check_interpolation(interpolation)
    images = tf.cast(images, tf.float32)
    height = tf.shape(images)[-3]
    images = tf.image.resize(images, [height, size[1]], interpolation, antialias=True)
    images = tf.image.resize(_round_to_pixels(images), size, interpolation, antialias=True)
    return _round_to_pixels(images)


def shorter_side_size(height, width, size):
    """`(new_height, new_width)` of torchvision's `Resize(size)`: the shorter side becomes
    `size`, the longer `int(size * longer / shorter)`.

    Example:
    >>> [int(v) for v in shorter_side_size(375, 500, 256)]
    [256, 341]
    """
    height = tf.cast(height, tf.float64)
    width = tf.cast(width, tf.float64)
    shorter = tf.minimum(height, width)
    longer = tf.cast(tf.floor(size * tf.maximum(height, width) / shorter), tf.int32)
    portrait = height > width
    return (
        tf.where(portrait, longer, size),
        tf.where(portrait, size, longer),
    )


def evaluation_resize(crop_size, crop_pct):
    """The shorter side before the centre crop: `floor(crop_size / crop_pct)` (timm; the
    official code's `int(224 / 0.875)` = 256).

    Example:
    >>> evaluation_resize(224, 0.875), evaluation_resize(224, 0.95)
    (256, 235)
    """
    if not 0 < crop_pct <= 1:
        raise ValueError(f"`crop_pct` must be in (0, 1]. Received: crop_pct={crop_pct!r}")
    return math.floor(crop_size / crop_pct)


def center_crop(images, crop_size):
    """The centred `crop_size` square of `(..., h, w, 3)` images, offsets rounded as
    torchvision's `CenterCrop` (`round((h - crop) / 2)`, half to even)."""
    shape = tf.shape(images)
    top = tf.cast(tf.round(tf.cast(shape[-3] - crop_size, tf.float64) / 2.0), tf.int32)
    left = tf.cast(tf.round(tf.cast(shape[-2] - crop_size, tf.float64) / 2.0), tf.int32)
    return images[..., top : top + crop_size, left : left + crop_size, :]


def evaluation_crop(images, crop_size=224, crop_pct=0.875, interpolation="bilinear"):
    """Evaluation preprocessing: the shorter side resized to `crop_size / crop_pct`, then
    the centre `crop_size` square (`Resize(256)` + `CenterCrop(224)` by default).

    Args:
        images: `(h, w, 3)` or a batch `(b, h, w, 3)` of same-sized images, uint8 or 0-255.
        crop_size / crop_pct / interpolation: as `ClassificationConfig`.

    Returns:
        float32 `(..., crop_size, crop_size, 3)`, whole numbers in 0-255.

    Example:
    >>> import numpy as np
    >>> evaluation_crop(np.zeros((375, 500, 3), "uint8")).shape
    TensorShape([224, 224, 3])
    """
    shape = tf.shape(images)
    size = shorter_side_size(shape[-3], shape[-2], evaluation_resize(crop_size, crop_pct))
    resized = resize_like_pil(images, size, interpolation)
    crop = center_crop(resized, crop_size)
    return tf.ensure_shape(crop, [*images.shape[:-3], crop_size, crop_size, 3])


def random_crop_box(key, height, width, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), attempts=10):
    """`(top, left, crop_height, crop_width)` of torchvision's `RandomResizedCrop`.

    Up to `attempts` boxes of a random share of the area (`scale`) and log-uniform aspect
    ratio (`ratio`, width / height); the first that fits is placed uniformly at random.
    If none fits, the centred box of the whole image clamped to `ratio`. Every number is
    drawn from the stateless `key`.
    """
    area_key, ratio_key, top_key, left_key = tf.unstack(
        tf.random.experimental.stateless_split(key, 4)
    )
    height_f = tf.cast(height, tf.float64)
    width_f = tf.cast(width, tf.float64)
    area = (
        height_f
        * width_f
        * tf.random.stateless_uniform([attempts], area_key, scale[0], scale[1], tf.float64)
    )
    aspect = tf.exp(
        tf.random.stateless_uniform(
            [attempts], ratio_key, math.log(ratio[0]), math.log(ratio[1]), tf.float64
        )
    )
    widths = tf.cast(tf.round(tf.sqrt(area * aspect)), tf.int32)
    heights = tf.cast(tf.round(tf.sqrt(area / aspect)), tf.int32)
    fits = (widths > 0) & (widths <= width) & (heights > 0) & (heights <= height)
    first = tf.argmax(tf.cast(fits, tf.int32), output_type=tf.int32)

    in_ratio = width_f / height_f
    fallback_w = tf.where(
        in_ratio > ratio[1], tf.cast(tf.round(height_f * ratio[1]), tf.int32), width
    )
    fallback_h = tf.where(
        in_ratio < ratio[0], tf.cast(tf.round(width_f / ratio[0]), tf.int32), height
    )
    found = tf.reduce_any(fits)
    crop_h = tf.where(found, heights[first], fallback_h)
    crop_w = tf.where(found, widths[first], fallback_w)
    top_u = tf.random.stateless_uniform([attempts], top_key, dtype=tf.float64)[first]
    left_u = tf.random.stateless_uniform([attempts], left_key, dtype=tf.float64)[first]
    top = tf.where(
        found,
        tf.cast(tf.floor(top_u * tf.cast(height - crop_h + 1, tf.float64)), tf.int32),
        (height - crop_h) // 2,
    )
    left = tf.where(
        found,
        tf.cast(tf.floor(left_u * tf.cast(width - crop_w + 1, tf.float64)), tf.int32),
        (width - crop_w) // 2,
    )
    return top, left, crop_h, crop_w


def random_resized_crop(
    image, key, crop_size=224, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), interpolation="bilinear"
):
    """A `random_crop_box` of `image` resized (as PIL) to `crop_size` x `crop_size`.

    Example:
    >>> import numpy as np
    >>> key = tf.constant([1, 2], tf.int64)
    >>> random_resized_crop(np.zeros((60, 80, 3), "uint8"), key, 32).shape
    TensorShape([32, 32, 3])
    """
    shape = tf.shape(image)
    top, left, crop_h, crop_w = random_crop_box(key, shape[0], shape[1], scale, ratio)
    box = image[top : top + crop_h, left : left + crop_w]
    resized = resize_like_pil(box, (crop_size, crop_size), interpolation)
    return tf.ensure_shape(resized, [crop_size, crop_size, 3])
