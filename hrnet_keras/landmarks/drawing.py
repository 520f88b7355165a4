"""Pictures of predicted landmarks a person can check."""

import numpy as np
from PIL import Image, ImageDraw


def draw_landmarks(image, landmarks, *, box=None, color=(0, 255, 0), radius=None):
    """A copy of `image` (PIL or array) with one dot per landmark and, optionally, the box.

    Example:
    >>> picture = draw_landmarks(np.zeros((20, 20, 3), np.uint8), [[10, 10]], radius=1)
    >>> picture.getpixel((10, 10))
    (0, 255, 0)
    """
    picture = image.copy() if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    picture = picture.convert("RGB")
    draw = ImageDraw.Draw(picture)
    if radius is None:
        radius = max(1, round(max(picture.size) / 300))
    if box is not None:
        x, y, w, h = (float(v) for v in box)
        draw.rectangle((x, y, x + w, y + h), outline=(255, 0, 0), width=max(1, radius // 2))
    for x, y in np.asarray(landmarks, np.float64):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=color)
    return picture
