"""Shared pieces of the detection tests: a tiny pyramid model and synthetic targets."""

import keras
import numpy as np


def tiny_pyramid(channels=8, name="tiny_pyramid"):
    """A small stand-in for `hrnetv2p`: strided convs giving P2..P6 of `channels` channels."""
    images = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(channels, 4, strides=4, name="stem")(images)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    levels = {"P2": keras.layers.Conv2D(channels, 3, padding="same", name="p2")(x)}
    for level in range(3, 7):
        x = keras.layers.Conv2D(channels, 3, strides=2, padding="same", name=f"down{level}")(x)
        levels[f"P{level}"] = x
        x = keras.layers.ReLU()(x)
    return keras.Model(images, levels, name=name)


def synthetic_batch(seed=0, batch=2, size=(64, 96), max_boxes=4, num_classes=3):
    """Images with bright rectangles and their boxes; the last image has no boxes."""
    rng = np.random.default_rng(seed)
    height, width = size
    images = rng.normal(0.0, 0.1, (batch, height, width, 3)).astype("float32")
    boxes = np.zeros((batch, max_boxes, 4), "float32")
    labels = np.full((batch, max_boxes), -1, "int32")
    for b in range(batch - 1):
        for m in range(max_boxes - 1):
            w, h = rng.integers(16, 40, 2)
            x1, y1 = rng.integers(0, width - w), rng.integers(0, height - h)
            label = int(rng.integers(0, num_classes))
            images[b, y1 : y1 + h, x1 : x1 + w, label] += 1.0
            boxes[b, m] = (x1, y1, x1 + w, y1 + h)
            labels[b, m] = label
    return images, {"boxes": boxes, "labels": labels}
