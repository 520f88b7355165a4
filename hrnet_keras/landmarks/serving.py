"""The served face-landmark model: a uint8 RGB crop in, landmark coordinates (and heatmaps)
out; or an encoded photo and its face box in, landmarks in the photo's pixels out."""

import keras
import numpy as np
import tensorflow as tf

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


BOX_SPEC = tf.TensorSpec((None, 4), tf.float32, name="box")


def _check_box(box, image):
    """`box` (x, y, w, h) after a check that it has a positive size and lies in `image`."""
    size = tf.cast(tf.shape(image)[:2], tf.float32)
    x, y, w, h = tf.unstack(box)
    inside = tf.reduce_all(
        [x >= 0.0, y >= 0.0, w > 0.0, h > 0.0, x + w <= size[1], y + h <= size[0]]
    )
    check = tf.debugging.Assert(
        inside,
        [
            "A `box` (x, y, width, height) must have a positive size and lie inside its image. "
            "Received: box=",
            box,
            "image (height, width)=",
            tf.shape(image)[:2],
        ],
        summarize=4,
    )
    with tf.control_dependencies([check]):
        return tf.identity(box)


def landmark_signatures(model, options, *, decoder="shift", heatmaps=False):
    """The served landmark model's signatures.

    - `serving_default`: `images`, uint8 face crops `(N, S, S, 3)` (the box x`crop_scale`,
      as `landmark_serving_model`) to `landmarks`, float32 `(N, K, 2)` x, y in crop pixels.
    - `serving_bytes`: `images`, a batch of encoded photos of any sizes, and `box`, float32
      `(N, 4)` the face box of each photo (x, y, width, height in its pixels, as
      `hrnet-keras predict --box`) to `landmarks`, float32 `(N, K, 2)` x, y in each photo's
      pixels, and `image_size`, int32 `(N, 2)` (height, width). The graph crops the box
      as `LandmarkTask.predict` does (centre, longer side,
      `crop_scale` margin, bilinear), runs the model, decodes the heatmaps and maps the
      points back. A box outside its photo or of zero size is an `InvalidArgumentError`.

    Args:
        model: the heatmap model (normalised crops to stride-`options.stride` heatmaps).
        options: the task's `CropOptions`.
        decoder: `"shift"` or `"dark"`.
        heatmaps: `serving_default` also returns the heatmaps.
    """
    from hrnet_keras.data.normalization import normalize
    from hrnet_keras.export.serving_inputs import IMAGES_SPEC, decode_image
    from hrnet_keras.export.signatures import (
        ServingSignatures,
        Signature,
        from_serving_model,
        sample_jpeg,
    )
    from hrnet_keras.landmarks.annotations import SCALE_UNIT
    from hrnet_keras.landmarks.geometry import crop_matrix, warp_to_crop

    serving = landmark_serving_model(model, decoder=decoder, sigma=options.sigma, heatmaps=heatmaps)
    decode = LandmarkDecoder(decoder, stride=options.stride, sigma=options.sigma)
    size = options.input_size

    def crop(args):
        encoded, box = args
        image = decode_image(encoded)
        box = _check_box(box, image)
        x, y, w, h = tf.unstack(box)
        center = tf.stack([x + w / 2, y + h / 2])
        scale = tf.maximum(w, h) / SCALE_UNIT
        matrix = crop_matrix(center, scale, output_size=size, crop_scale=options.crop_scale)
        return warp_to_crop(image, matrix, size), center, scale, tf.shape(image)[:2]

    def serve_bytes(images, box):
        images = tf.convert_to_tensor(images, tf.string)
        checks = [
            tf.debugging.assert_equal(
                tf.shape(images)[0],
                tf.shape(box)[0],
                message="`images` and `box` need one entry per photo",
            ),
            tf.debugging.assert_positive(
                tf.size(images), message="`images` is an empty batch; expected one file or more"
            ),
        ]
        with tf.control_dependencies(checks):
            images = tf.identity(images)
        crops, centers, scales, image_size = tf.map_fn(
            crop,
            (images, box),
            fn_output_signature=(
                tf.TensorSpec((size, size, 3), tf.float32),
                tf.TensorSpec((2,), tf.float32),
                tf.TensorSpec((), tf.float32),
                tf.TensorSpec((2,), tf.int32),
            ),
        )
        points = tf.cast(decode(model(normalize(crops), training=False)), tf.float32)
        zoom = scales * (SCALE_UNIT * options.crop_scale) / size
        landmarks = (points - (size - 1) / 2.0) * zoom[:, None, None] + centers[:, None, :]
        return {"landmarks": landmarks, "image_size": image_size}

    example = {
        "images": np.array([sample_jpeg()], dtype=object),
        "box": np.array([[8.0, 4.0, 40.0, 40.0]], np.float32),
    }
    return ServingSignatures(
        [serving],
        [
            from_serving_model(serving).signatures[0],
            Signature("serving_bytes", serve_bytes, [IMAGES_SPEC, BOX_SPEC], example),
        ],
    )
