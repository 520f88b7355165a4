"""Bilinear upsampling of stride-4 logits to a label's (or image's) size."""

import tensorflow as tf
from keras import ops

from hrnet_keras.layers import Resize

_ALIGNED_CORNERS = Resize("bilinear", align_corners=True, name="align_corners_resize")


def resize_logits(logits, size, align_corners=False):
    """(b, h, w, k) logits resized bilinearly to `size = (height, width)`, in float32.

    Example:
    >>> import numpy as np
    >>> tuple(resize_logits(np.zeros((1, 4, 4, 3), "float32"), (16, 16)).shape)
    (1, 16, 16, 3)
    """
    logits = ops.cast(logits, "float32")
    if not align_corners:
        # TensorFlow's half-pixel bilinear resize is PyTorch's align_corners=False. (Not
        # `ops.image.resize`: it cannot take a size known only when the graph runs.)
        return tf.image.resize(logits, size, method="bilinear")
    reference = ops.zeros((1, size[0], size[1], 1), logits.dtype)
    return _ALIGNED_CORNERS([logits, reference])
