"""ImageNet normalisation of RGB images: the constants, a tensor function and a Keras layer.

Training pipelines call `normalize` on their tensors; served graphs (SavedModel, TFLite) put
an `ImageNormalization` layer in front of the model, so that both compute the same numbers.
"""

import keras
import tensorflow as tf
from keras import ops

# RGB mean and standard deviation of ImageNet images scaled to [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _check(mean, std):
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise ValueError(
            f"`mean` and `std` need 3 values, `std` positive. Received: mean={mean!r}, std={std!r}"
        )


def normalize(images, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """uint8 (or 0-255 float) RGB -> `(RGB / 255 - mean) / std`, float32, in tf.data or eagerly.

    Args:
        images: `(..., 3)` tensor or array.
        mean / std: per-channel statistics of images scaled to [0, 1].

    Returns:
        A float32 tensor of the same shape.

    Example:
    >>> import numpy as np
    >>> white = normalize(np.full((1, 1, 3), 255, "uint8")).numpy()
    >>> np.round(white.astype(float), 3).ravel().tolist()
    [2.249, 2.429, 2.64]
    """
    _check(mean, std)
    images = tf.cast(images, tf.float32) / 255.0
    return (images - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)


@keras.saving.register_keras_serializable(package="hrnet_keras")
class ImageNormalization(keras.layers.Layer):
    """`normalize` as a layer, for serving graphs that take uint8 images.

    Registered as `hrnet_keras>ImageNormalization`, the name `.keras` files store.

    Args:
        mean / std: as `normalize`.

    Example:
    >>> import numpy as np
    >>> y = ImageNormalization(mean=(0.5,) * 3, std=(0.5,) * 3)(np.full((1, 1, 1, 3), 255, "uint8"))
    >>> np.asarray(y).ravel().tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, mean=IMAGENET_MEAN, std=IMAGENET_STD, **kwargs):
        super().__init__(**kwargs)
        _check(mean, std)
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
