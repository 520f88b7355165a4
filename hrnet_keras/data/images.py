"""Reading and decoding images and masks, with errors that name the file.

NumPy readers (PIL) for evaluation and prediction, and `load_image` / `load_pair` that run
the same readers inside a `tf.data` pipeline: every task decodes a file to the same pixels
in training, evaluation and prediction (TensorFlow's JPEG decoder rounds differently from
PIL's), and a broken file is named in the error whichever path reads it.
"""

import io

import numpy as np
import tensorflow as tf
from PIL import Image


def read_image(path, contents=None):
    """An RGB image as a (height, width, 3) uint8 array.

    Args:
        path: the image file; with `contents`, only the name used in errors.
        contents: the encoded bytes (PNG, JPEG, ...) when the pixels come from memory.

    Returns:
        A uint8 array.

    Example:
    >>> read_image("missing.jpg")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Cannot read the image 'missing.jpg': ... Received: path='missing.jpg'
    """
    try:
        source = io.BytesIO(contents) if contents is not None else path
        with Image.open(source) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError) as error:
        raise ValueError(
            f"Cannot read the image {path!r}: {error}. Received: path={path!r}"
        ) from None


def read_mask(path):
    """A mask file (palette or grey PNG; the stored value is the class) as (h, w) uint8.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "rgb.png")
    >>> Image.new("RGB", (2, 2)).save(path)
    >>> read_mask(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The mask '...rgb.png' is a RGB colour image; ... Received: mode='RGB'
    """
    try:
        with Image.open(path) as mask:
            mode = mask.mode
            values = np.asarray(mask)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"Cannot read the mask {path!r}: {error}. Received: path={path!r}"
        ) from None
    if values.ndim != 2:
        raise ValueError(
            f"The mask {path!r} is a {mode} colour image; a mask stores one class id per pixel "
            f"(a palette or greyscale PNG). Received: mode={mode!r}"
        )
    if values.dtype != np.uint8:
        if values.size and (values.min() < 0 or values.max() > 255):
            raise ValueError(
                f"The mask {path!r} holds values outside 0-255. Received: max={values.max()}"
            )
        values = values.astype(np.uint8)
    return values


def read_pair(image_path, label_path, label_lut=None):
    """An image and its mask (mapped through `label_lut`), checked to be the same size."""
    image = read_image(image_path)
    label = read_mask(label_path)
    if label.shape != image.shape[:2]:
        raise ValueError(
            f"The mask {label_path!r} is {label.shape[1]}x{label.shape[0]} but its image "
            f"{image_path!r} is {image.shape[1]}x{image.shape[0]} (width x height). "
            f"Received: mask_size={label.shape[::-1]}, image_size={image.shape[1::-1]}"
        )
    if label_lut is not None:
        label = label_lut[label]
    return image, label


def _text(value):
    # `tf.numpy_function` passes strings as bytes in a graph, as 0-d arrays when eager.
    value = np.asarray(value).item()
    return value.decode() if isinstance(value, bytes) else value


def load_image(path, contents=None):
    """`read_image` in the graph: a (h, w, 3) uint8 tensor from a path (or encoded bytes).

    Args:
        path: a string tensor.
        contents: None, or a string tensor of encoded bytes (an empty string reads `path`).

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> Image.new("RGB", (3, 2)).save(path)
    >>> load_image(tf.constant(path)).shape
    TensorShape([2, 3, 3])
    """

    def read(path, contents):
        return read_image(_text(path), np.asarray(contents).item() or None)

    contents = tf.constant(b"") if contents is None else contents
    image = tf.numpy_function(read, [path, contents], tf.uint8, stateful=False)
    image.set_shape([None, None, 3])
    return image


def load_pair(image_path, label_path, label_lut=None):
    """`read_pair` in the graph: (h, w, 3) uint8 image and (h, w) uint8 train ids."""

    def read(image_file, label_file):
        return read_pair(_text(image_file), _text(label_file), label_lut)

    image, label = tf.numpy_function(
        read, [image_path, label_path], [tf.uint8, tf.uint8], stateful=False
    )
    image.set_shape([None, None, 3])
    label.set_shape([None, None])
    return image, label
