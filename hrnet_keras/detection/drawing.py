"""Pictures of detections a person can check: boxes with class names and scores."""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Distinct, saturated colours, one per class in turn.
COLORS = (
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212),
    (0, 128, 128), (220, 190, 255), (170, 110, 40), (255, 250, 200), (128, 0, 0),
    (170, 255, 195), (128, 128, 0), (255, 215, 180), (0, 0, 128), (128, 128, 128),
)  # fmt: skip


def draw_detections(image, detections, class_names, *, score_threshold=0.3):
    """A copy of `image` with a labelled box per detection of at least `score_threshold`.

    Args:
        image: a PIL image or a uint8 `(H, W, 3)` array.
        detections: `{"boxes": (M, 4) xyxy pixels, "scores": (M,), "labels": (M,)}` of one
            image (labels -1 are padding; `num_detections`, if there, counts the rows).
        class_names: the name of each label.
        score_threshold: the least score drawn.

    Returns:
        `(picture, drawn)`: an RGB PIL image and the number of boxes drawn.

    Example:
    >>> picture, drawn = draw_detections(
    ...     np.zeros((40, 60, 3), np.uint8),
    ...     {"boxes": [[5, 5, 30, 30], [0, 0, 1, 1]], "scores": [0.9, 0.1], "labels": [1, 0]},
    ...     ["cat", "dog"])
    >>> drawn, picture.getpixel((5, 20))
    (1, (60, 180, 75))
    """
    picture = image.copy() if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    picture = picture.convert("RGB")
    boxes = np.asarray(detections["boxes"], np.float64).reshape(-1, 4)
    scores = np.asarray(detections["scores"], np.float64).reshape(-1)
    labels = np.asarray(detections["labels"]).reshape(-1).astype(np.int64)
    count = int(np.asarray(detections.get("num_detections", len(labels))).reshape(()))
    draw = ImageDraw.Draw(picture)
    line = max(1, round(max(picture.size) / 400))
    font = ImageFont.load_default(size=max(10, round(max(picture.size) / 50)))
    drawn = 0
    # Lowest scores first, so that the most confident boxes end up on top.
    for i in sorted(range(min(count, len(labels))), key=lambda i: scores[i]):
        if labels[i] < 0 or scores[i] < score_threshold:
            continue
        color = COLORS[labels[i] % len(COLORS)]
        x1, y1, x2, y2 = boxes[i]
        draw.rectangle((x1, y1, x2, y2), outline=color, width=line)
        name = class_names[labels[i]] if labels[i] < len(class_names) else str(labels[i])
        text = f"{name} {scores[i]:.2f}"
        left, top, right, bottom = draw.textbbox((x1, y1), text, font=font)
        top_y = max(0.0, y1 - (bottom - top) - 2 * line)
        draw.rectangle((x1, top_y, x1 + (right - left) + 2 * line, y1), fill=color)
        draw.text((x1 + line, top_y), text, fill=(0, 0, 0), font=font)
        drawn += 1
    return picture, drawn
