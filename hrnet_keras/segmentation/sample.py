"""A built-in sample: a small synthetic VOC-layout dataset and the recipe that trains on it.

Nothing is stored: `write_sample_dataset` draws the images at run time, deterministically.
"""

import os

import numpy as np
from PIL import Image, ImageDraw

SAMPLE_CLASS_NAMES = ("background", "disc", "square", "triangle")
# Each shape class has its own colour family, so that a tiny model learns it in a minute.
_CLASS_HUES = {1: (200, 60, 50), 2: (50, 170, 60), 3: (60, 80, 200)}


def _background(rng, height, width):
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(6, 18)
    stripes = np.sin((x * np.cos(angle) + y * np.sin(angle)) * 2 * np.pi / period)
    base = rng.uniform(90, 160, size=3)
    noise = rng.normal(0, 12, size=(height, width, 1))
    image = base + 25 * stripes[..., None] + noise
    return np.clip(image, 0, 255).astype(np.uint8)


def _draw_shape(draw, mask_draw, rng, height, width, class_id):
    size = rng.uniform(0.18, 0.35) * min(height, width)
    cx = rng.uniform(size, width - size)
    cy = rng.uniform(size, height - size)
    color = tuple(int(np.clip(c + rng.normal(0, 20), 0, 255)) for c in _CLASS_HUES[class_id])
    if class_id == 1:
        box = (cx - size, cy - size, cx + size, cy + size)
        draw.ellipse(box, fill=color)
        mask_draw.ellipse(box, fill=class_id)
    elif class_id == 2:
        box = (cx - size, cy - size, cx + size, cy + size)
        draw.rectangle(box, fill=color)
        mask_draw.rectangle(box, fill=class_id)
    else:
        points = [(cx, cy - size), (cx - size, cy + size), (cx + size, cy + size)]
        draw.polygon(points, fill=color)
        mask_draw.polygon(points, fill=class_id)


def write_sample_dataset(directory, num_images=32, size=(96, 128), num_val=8, seed=0):
    """Writes a VOC-layout dataset of shapes on striped, noisy backgrounds.

    Layout: `JPEGImages/*.jpg`, `SegmentationClassPNG/*.png` (palette, value = class id),
    `ImageSets/Segmentation/{train,val}.txt`, `class_names.txt` (background, disc, square,
    triangle). The last `num_val` images form the val split.

    Returns:
        `directory`.

    Example:
    >>> import tempfile, os
    >>> root = write_sample_dataset(tempfile.mkdtemp(), num_images=4, num_val=1)
    >>> sorted(os.listdir(root))
    ['ImageSets', 'JPEGImages', 'SegmentationClassPNG', 'class_names.txt']
    """
    from hrnet_keras.segmentation.visualize import mask_image, voc_palette

    height, width = size
    rng = np.random.default_rng(seed)
    for folder in ("JPEGImages", "SegmentationClassPNG", os.path.join("ImageSets", "Segmentation")):
        os.makedirs(os.path.join(directory, folder), exist_ok=True)
    stems = []
    for index in range(num_images):
        image = Image.fromarray(_background(rng, height, width))
        mask = Image.new("L", (width, height), 0)
        draw, mask_draw = ImageDraw.Draw(image), ImageDraw.Draw(mask)
        for class_id in rng.permutation([1, 2, 3])[: rng.integers(1, 4)]:
            _draw_shape(draw, mask_draw, rng, height, width, int(class_id))
        stem = f"shapes_{index:03d}"
        image.save(os.path.join(directory, "JPEGImages", f"{stem}.jpg"), quality=95)
        mask_image(np.asarray(mask), voc_palette()).save(
            os.path.join(directory, "SegmentationClassPNG", f"{stem}.png")
        )
        stems.append(stem)
    splits = {"train": stems[: num_images - num_val], "val": stems[num_images - num_val :]}
    for split, names in splits.items():
        with open(os.path.join(directory, "ImageSets", "Segmentation", f"{split}.txt"), "w") as f:
            f.write("".join(f"{n}\n" for n in names))
    with open(os.path.join(directory, "class_names.txt"), "w") as f:
        f.write("".join(f"{n}\n" for n in SAMPLE_CLASS_NAMES))
    return directory


def demo_recipe():
    """A tiny HRNetV2 (W18-small-v1) recipe for the sample dataset: about a minute on 2 cores.

    Example:
    >>> demo_recipe().task.num_classes
    4
    """
    from hrnet_keras.segmentation.config import SegmentationConfig
    from hrnet_keras.segmentation.recipes import tiny_segmentation_recipe

    task = SegmentationConfig(
        dataset="voc",
        num_classes=len(SAMPLE_CLASS_NAMES),
        crop_size=(96, 96),
        scale_range=(0.75, 1.25),
        eval_sliding_window=False,
    )
    return tiny_segmentation_recipe(task, global_batch_size=8, epochs=6, steps_per_epoch=20)
