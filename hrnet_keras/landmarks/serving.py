"""The served face-landmark model: a uint8 RGB crop in, landmark coordinates (and heatmaps) out."""

import keras

from hrnet_keras.data.normalization import ImageNormalization
from hrnet_keras.landmarks.decoding import LandmarkDecoder


def landmark_serving_model(model, *, decoder="shift", sigma=1.5, heatmaps=False):
    """Wraps a heatmap `model` so that the graph normalises its input and decodes its output.

    Args:
        model: a `keras.Model` from normalised `(B, S, S, 3)` crops to `(B, S/4, S/4, K)`.
        decoder: `"shift"` or `"dark"`.
        sigma: the targets' sigma (DARK's smoothing).
        heatmaps: also return the heatmaps.

    Returns:
        A `keras.Model` from `image`, uint8 RGB `(B, S, S, 3)` (the face crop), to
        `{"landmarks": (B, K, 2) float32 x, y in crop pixels}` (plus `"heatmaps"`).

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import hrnetv2
    >>> net = hrnetv2(width=4, num_classes=3, input_shape=(64, 64, 3))
    >>> served = landmark_serving_model(net)
    >>> served(np.zeros((2, 64, 64, 3), np.uint8))["landmarks"].shape
    TensorShape([2, 3, 2])
    """
    size = model.input_shape[1:3]
    image = keras.Input((*size, 3), dtype="uint8", name="image")
    maps = model(ImageNormalization(name="normalize")(image))
    outputs = {
        "landmarks": LandmarkDecoder(
            decoder, stride=size[0] // maps.shape[1], sigma=sigma, name="landmarks"
        )(maps)
    }
    if heatmaps:
        outputs["heatmaps"] = keras.layers.Identity(name="heatmaps")(maps)
    return keras.Model(image, outputs, name=f"{model.name}_serving")
