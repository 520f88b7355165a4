"""tf.data pipelines of detection: resized, flipped, normalised images on a fixed canvas.

The steps are mmdetection v2's (`Resize(img_scale=(1333, 800), keep_ratio=True)`,
`RandomFlip`, `Normalize`, `Pad(size_divisor=32)`), with one difference: every image is
padded to the same static canvas (`DetectionDataConfig.canvas`) instead of the largest image
of its batch, so that batches have one shape under XLA and in every replica. The default
canvas is a square that holds landscape and portrait images alike (1344 x 1344 for
1333 / 800): about 1.7 times the pixels of an 800 x 1344 batch, spent on zeros; a smaller
`pad_shape` trades that for images scaled below `min_size` where they would not fit. The
resized pixels stay float32 (mmcv rounds them to uint8 before normalising). Training's
only random choice, the flip, is a stateless draw keyed by (seed, epoch, index)
(`hrnet_keras.data.random_keys`), so a resumed run sees the same batches.

Elements:
    training: `({"images": (B, H, W, 3) float32, "image_shape": (B, 2) int32},
    {"boxes": (B, M, 4) float32, "labels": (B, M) int32, "crowd": (B, M) bool})` with
    `(H, W)` the canvas, `M = max_boxes`, `image_shape` the resized size before padding,
    boxes `xyxy` in resized pixels and padding rows of label -1.
    evaluation: the same plus, in the targets, `"image_id"` (B,) int64, `"scale_factor"`
    (B, 2) float32 (resized / original height and width) and `"original_shape"` (B, 2) int32,
    for `boxes_to_original`.
"""

import numpy as np
import tensorflow as tf

from hrnet_keras.data.images import load_image
from hrnet_keras.data.normalization import normalize
from hrnet_keras.data.random_keys import epoch_stream, example_key
from hrnet_keras.data.sharding import shard

AUTOTUNE = tf.data.AUTOTUNE


def resized_size(height, width, config):
    """mmdet's keep-ratio size: scale `min(min_size / short, max_size / long)`, rounded.

    The scale also keeps the image within `config.canvas` (only a `pad_shape` smaller than
    the default square binds). mmcv rounds `int(side * scale + 0.5)`; so does this, in float64.

    Args:
        height / width: the original size (scalars).
        config: a `DetectionDataConfig`.

    Returns:
        int32 `(new_height, new_width)`.

    Example:
    >>> from hrnet_keras.detection.reader import DetectionDataConfig
    >>> [int(s) for s in resized_size(480, 640, DetectionDataConfig())]
    [800, 1067]
    """
    height = tf.cast(height, tf.float64)
    width = tf.cast(width, tf.float64)
    canvas_h, canvas_w = config.canvas
    scale = tf.minimum(
        config.min_size / tf.minimum(height, width), config.max_size / tf.maximum(height, width)
    )
    scale = tf.minimum(scale, tf.minimum(canvas_h / height, canvas_w / width))
    return (
        tf.cast(tf.floor(height * scale + 0.5), tf.int32),
        tf.cast(tf.floor(width * scale + 0.5), tf.int32),
    )


def flip_boxes(boxes, width):
    """`xyxy` boxes mirrored in an image `width` wide: `x1' = width - x2`, `x2' = width - x1`.

    Example:
    >>> flip_boxes(tf.constant([[1.0, 2.0, 4.0, 5.0]]), 10.0).numpy().tolist()
    [[6.0, 2.0, 9.0, 5.0]]
    """
    x1, y1, x2, y2 = tf.unstack(boxes, axis=-1)
    width = tf.cast(width, boxes.dtype)
    return tf.stack([width - x2, y1, width - x1, y2], axis=-1)


def pad_rows(values, rows, padding):
    """`values` (n, ...) padded with `padding` to `rows` rows (n <= rows)."""
    extra = rows - tf.shape(values)[0]
    paddings = [[0, extra]] + [[0, 0]] * (values.shape.rank - 1)
    values = tf.pad(values, paddings, constant_values=padding)
    values.set_shape([rows, *values.shape[1:]])
    return values


def resize_image(image, config):
    """Images resized keeping their aspect ratio (`resized_size`), bilinearly, as float32.

    Args:
        image: `(h, w, 3)` or a batch `(B, h, w, 3)` of one size, any real or int dtype.
        config: a `DetectionDataConfig`.

    Returns:
        `(resized, (new_h, new_w), (scale_h, scale_w))`: the float32 pixels (0-255), the
        int32 size and the float32 scales from original to resized pixels.

    Example:
    >>> from hrnet_keras.detection.reader import DetectionDataConfig
    >>> config = DetectionDataConfig(min_size=64, max_size=100)
    >>> resized, size, scale = resize_image(tf.zeros((2, 30, 40, 3), tf.uint8), config)
    >>> resized.shape.as_list(), [int(s) for s in size], [round(float(s), 3) for s in scale]
    ([2, 64, 85, 3], [64, 85], [2.133, 2.125])
    """
    original = tf.shape(image)[-3:-1]
    new_h, new_w = resized_size(original[0], original[1], config)
    resized = tf.image.resize(tf.cast(image, tf.float32), [new_h, new_w], method="bilinear")
    scale_h = tf.cast(new_h, tf.float32) / tf.cast(original[0], tf.float32)
    scale_w = tf.cast(new_w, tf.float32) / tf.cast(original[1], tf.float32)
    return resized, (new_h, new_w), (scale_h, scale_w)


def to_canvas(image, config):
    """Resized float pixels (0-255) normalised and padded with zeros to `config.canvas`.

    mmdet pads the normalised image with zeros, below and to the right.

    Args:
        image: `(h, w, 3)` or `(B, h, w, 3)` float32, at most the canvas' size.
        config: a `DetectionDataConfig`.

    Returns:
        float32 `(*canvas, 3)` (or `(B, *canvas, 3)`) with a static canvas shape.
    """
    canvas_h, canvas_w = config.canvas
    image = tf.image.pad_to_bounding_box(
        normalize(image, config.mean, config.std), 0, 0, canvas_h, canvas_w
    )
    image.set_shape([*image.shape[:-3], canvas_h, canvas_w, 3])
    return image


def prepare_example(image, boxes, labels, crowd, config, *, flip=False):
    """One image and its boxes through resize, flip, normalisation and padding.

    Args:
        image: `(h, w, 3)` uint8.
        boxes: `(n, 4)` float32 `xyxy` in original pixels; `labels` `(n,)` int32;
            `crowd` `(n,)` bool; `n <= config.max_boxes`.
        config: a `DetectionDataConfig`.
        flip: a bool (tensor) choosing the horizontal flip.

    Returns:
        `(inputs, targets, record)`: the element's two dicts (see the module) and
        `{"scale_factor": float32 (2,), "original_shape": int32 (2,)}`, the (height, width)
        scale from original to resized pixels and the original size.
    """
    original = tf.shape(image)[:2]
    image, (new_h, new_w), (scale_h, scale_w) = resize_image(image, config)
    # mmdet v2's Resize clips the scaled boxes to the resized image.
    new_w_f = tf.cast(new_w, tf.float32)
    new_h_f = tf.cast(new_h, tf.float32)
    boxes = boxes * tf.stack([scale_w, scale_h, scale_w, scale_h])
    boxes = tf.clip_by_value(boxes, 0.0, tf.stack([new_w_f, new_h_f, new_w_f, new_h_f]))
    image, boxes = tf.cond(
        tf.convert_to_tensor(flip),
        lambda: (tf.reverse(image, axis=[1]), flip_boxes(boxes, new_w_f)),
        lambda: (image, boxes),
    )
    inputs = {"images": to_canvas(image, config), "image_shape": tf.stack([new_h, new_w])}
    targets = {
        "boxes": pad_rows(boxes, config.max_boxes, 0.0),
        "labels": pad_rows(labels, config.max_boxes, -1),
        "crowd": pad_rows(crowd, config.max_boxes, False),
    }
    record = {"scale_factor": tf.stack([scale_h, scale_w]), "original_shape": original}
    return inputs, targets, record


def check_max_boxes(split, config):
    """Refuses a split with an image of more boxes than `config.max_boxes` rows.

    Dropping ground truth silently would train on wrong negatives, so the pipeline stops
    before it starts and names the image (COCO 2017 has at most 93 boxes in an image).
    """
    rows, i = split.most_boxes()
    if rows > config.max_boxes:
        raise ValueError(
            f"The image {split.files[i]!r} has {rows} boxes, more than the "
            f"{config.max_boxes} ground-truth rows per image; raise `max_boxes`. "
            f"Received: max_boxes={config.max_boxes}"
        )


def _example_reader(split, config):
    """`read(index, flip)`: one example of `split` as `prepare_example` returns it."""
    files = tf.constant(split.files)
    boxes = tf.constant(split.boxes)
    labels = tf.constant(split.labels)
    crowd = tf.constant(split.crowd)
    row_splits = tf.constant(split.row_splits)

    def read(index, flip):
        start, end = row_splits[index], row_splits[index + 1]
        image = load_image(files[index])
        return prepare_example(
            image, boxes[start:end], labels[start:end], crowd[start:end], config, flip=flip
        )

    return read


def training_dataset(split, config, *, batch_size, seed=0, input_context=None):
    """An endless stream of augmented batches: each epoch a permutation keyed by (seed, epoch).

    Args:
        split: a `DetectionSplit`.
        config: a `DetectionDataConfig`.
        batch_size: images a batch (the per-replica batch under a distribution strategy).
        seed: the run's seed.
        input_context: a `tf.distribute.InputContext`; each pipeline keeps its share of
            every epoch.

    Returns:
        A `tf.data.Dataset` of `(inputs, targets)` (see the module), `drop_remainder=True`.
    """
    check_max_boxes(split, config)
    read = _example_reader(split, config)

    def load(epoch, index):
        key = example_key(seed, epoch, index)
        inputs, targets, _ = read(index, tf.random.stateless_uniform([], key) < config.flip)
        return inputs, targets

    dataset = shard(epoch_stream(len(split), seed), input_context)
    dataset = dataset.map(load, num_parallel_calls=AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def evaluation_dataset(split, config, *, batch_size, input_context=None):
    """Every image once, in file order, unflipped, with what maps boxes back to the original.

    Returns:
        A `tf.data.Dataset` of `(inputs, targets)`; the targets also hold `image_id`,
        `scale_factor` and `original_shape` (see the module).
    """
    check_max_boxes(split, config)
    read = _example_reader(split, config)
    image_ids = tf.constant(split.image_ids)

    def load(index):
        inputs, targets, record = read(index, False)
        return inputs, {**targets, **record, "image_id": image_ids[index]}

    dataset = shard(tf.data.Dataset.range(len(split)), input_context)
    dataset = dataset.map(load, num_parallel_calls=AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size).prefetch(AUTOTUNE)


def boxes_to_original(boxes, scale_factor, original_shape):
    """Boxes predicted on resized images back in original pixels, clipped to the image.

    Args:
        boxes: `(..., M, 4)` `xyxy` in resized pixels.
        scale_factor: `(..., 2)` (height, width) scales of the evaluation element.
        original_shape: `(..., 2)` (height, width) of the original images.

    Returns:
        A float32 NumPy array like `boxes`.

    Example:
    >>> boxes_to_original([[10.0, 10.0, 50.0, 300.0]], [2.0, 0.5], [100, 200]).tolist()
    [[20.0, 5.0, 100.0, 100.0]]
    """
    boxes = np.asarray(boxes, np.float32)
    scale = np.asarray(scale_factor, np.float32)[..., None, :]
    shape = np.asarray(original_shape, np.float32)[..., None, :]
    factors = np.concatenate([scale[..., ::-1], scale[..., ::-1]], axis=-1)
    limits = np.concatenate([shape[..., ::-1], shape[..., ::-1]], axis=-1)
    return np.clip(boxes / factors, 0.0, limits).astype(np.float32)
