"""Reading images and masks from files, with errors that name the file."""

import numpy as np
from PIL import Image


def read_image(path):
    """An RGB image file as a (height, width, 3) uint8 array.

    Example:
    >>> read_image("missing.jpg")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Cannot read the image 'missing.jpg': ... Received: path='missing.jpg'
    """
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError) as error:
        raise ValueError(
            f"Cannot read the image {path!r}: {error}. Received: path={path!r}"
        ) from None


def read_mask(path):
    """A mask file (palette or grey PNG; the stored value is the class) as (h, w) uint8."""
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
