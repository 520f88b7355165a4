"""The picture `predict` writes: the image with its top classes listed beneath it."""

import numpy as np
from PIL import Image, ImageDraw

_LINE = 14
_MARGIN = 6


def draw_top_classes(image, names, probabilities, max_side=512):
    """The image (shrunk to `max_side` at most) above a white panel, one line per class:
    the name, the probability and a bar of that length.

    Args:
        image: a `(h, w, 3)` uint8 array or a PIL image.
        names / probabilities: the top classes, most probable first.
        max_side: the longest side of the drawn image.

    Returns:
        A PIL RGB image.

    Example:
    >>> picture = draw_top_classes(np.zeros((40, 80, 3), "uint8"), ["cat", "dog"], [0.9, 0.1])
    >>> picture.size
    (240, 80)
    """
    picture = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    picture = picture.convert("RGB")
    scale = min(1.0, max_side / max(picture.size))
    if scale < 1.0:
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.BILINEAR)
    width = max(picture.width, 240)
    panel = 2 * _MARGIN + _LINE * len(names)
    canvas = Image.new("RGB", (width, picture.height + panel), "white")
    canvas.paste(picture, (0, 0))
    draw = ImageDraw.Draw(canvas)
    top = picture.height + _MARGIN
    for row, (name, probability) in enumerate(zip(names, probabilities)):
        y = top + row * _LINE
        bar = int((width - 2 * _MARGIN) * float(probability))
        draw.rectangle([_MARGIN, y + 1, _MARGIN + bar, y + _LINE - 2], fill=(190, 215, 255))
        draw.text((_MARGIN + 2, y), f"{name}  {float(probability):.3f}", fill="black")
    return canvas
