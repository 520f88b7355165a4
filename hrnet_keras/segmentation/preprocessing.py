"""`ImageNormalization`: uint8 RGB -> the normalised float input the models train on."""

import keras
from keras import ops

from hrnet_keras.segmentation.config import IMAGENET_MEAN, IMAGENET_STD


@keras.saving.register_keras_serializable(package="hrnet_keras")
class ImageNormalization(keras.layers.Layer):
    """(RGB / 255 - mean) / std, for serving graphs that take uint8 images.

    Example:
    >>> import numpy as np
    >>> y = ImageNormalization(mean=(0.5,) * 3, std=(0.5,) * 3)(np.full((1, 1, 1, 3), 255, "uint8"))
    >>> np.asarray(y).ravel().tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, mean=IMAGENET_MEAN, std=IMAGENET_STD, **kwargs):
        super().__init__(**kwargs)
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(
                "`mean` and `std` need 3 values, `std` positive. "
                f"Received: mean={mean!r}, std={std!r}"
            )
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def call(self, images):
        images = ops.cast(images, "float32") / 255.0
        return (images - ops.array(self.mean, "float32")) / ops.array(self.std, "float32")

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(mean=self.mean, std=self.std)
        return config
