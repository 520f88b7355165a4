"""Colour-coded masks and overlays a person can check at a glance."""

import numpy as np
from PIL import Image

from hrnet_keras.segmentation.readers.cityscapes import PALETTE as CITYSCAPES_PALETTE


def voc_palette(num_colors=256):
    """PASCAL VOC's colour map (the official code's `get_palette`): (num_colors, 3) uint8.

    Example:
    >>> voc_palette(3).tolist()
    [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
    """
    palette = np.zeros((num_colors, 3), np.uint8)
    for index in range(num_colors):
        label, bit = index, 7
        while label:
            for channel in range(3):
                palette[index, channel] |= ((label >> channel) & 1) << bit
            label >>= 3
            bit -= 1
    return palette


def palette_for(layout):
    """256 colours: Cityscapes' own for its train ids, VOC's otherwise; 255 is white."""
    palette = voc_palette()
    if layout == "cityscapes":
        palette[: len(CITYSCAPES_PALETTE)] = CITYSCAPES_PALETTE
    palette[255] = (255, 255, 255)
    return palette


def mask_image(labels, palette):
    """A palette PNG-ready `PIL.Image`: pixel value = class id, shown in `palette` colours."""
    image = Image.fromarray(np.asarray(labels, np.uint8), mode="P")
    image.putpalette(np.asarray(palette, np.uint8).ravel().tolist())
    return image


def overlay_image(image, labels, palette, alpha=0.5):
    """The photo beside its blend with the colour mask (one RGB picture, twice as wide).

    Example:
    >>> photo = np.zeros((2, 3, 3), np.uint8)
    >>> overlay_image(photo, np.ones((2, 3), np.uint8), voc_palette()).size
    (6, 2)
    """
    image = np.asarray(image, np.uint8)
    colors = np.asarray(palette, np.uint8)[np.asarray(labels, np.int64)]
    blend = (image * (1.0 - alpha) + colors * alpha).round().astype(np.uint8)
    return Image.fromarray(np.concatenate([image, blend], axis=1))
