"""The served segmenter's signatures: uint8 images to logits, encoded photos to class maps.

- `serving_default`: `images`, uint8 RGB `(N, H, W, 3)` (one size for the batch) to
  `outputs`, float32 logits `(N, H, W, classes)` at the input size.
- `serving_bytes`: `images`, a batch of encoded JPEG / PNG / GIF / BMP files of any sizes,
  to `classes`, int32 `(N, H_max, W_max)` class ids at each photo's own size (top-left
  aligned; -1 where a smaller photo of the batch has no pixel), and `image_size`, int32
  `(N, 2)` (height, width) of each photo (with `probabilities=True` also `probabilities`,
  float32 `(N, H_max, W_max, classes)`, softmax, 0 outside a photo). A batch of one photo
  returns exactly that photo's size.

`serving_bytes` runs the single-scale test protocol of `SegmentationTask.predict` with
`scales=(1.0,)` and `flip=False`: the config's `eval_resize`, then its `base_size` (the long
side), the model, the logits resized back (bilinear, the config's `align_corners`), argmax.
Multi-scale, flipped and sliding-window testing are not in the served graph.
"""

import tensorflow as tf

from hrnet_keras.data.normalization import normalize
from hrnet_keras.export.serving_inputs import IMAGES_SPEC, map_images
from hrnet_keras.export.signatures import ServingSignatures, Signature, from_serving_model
from hrnet_keras.segmentation.pipeline import scaled_size
from hrnet_keras.segmentation.upsample import resize_logits


def image_logits(model, image, config):
    """Logits `(H, W, classes)` float32 of one uint8 `(H, W, 3)` image, single scale, as
    `SegmentationTask.predictor(model, scales=(1.0,), flip=False)` computes them for
    whole images."""
    size = tf.shape(image)[:2]
    x = normalize(image, config.mean, config.std)
    if config.eval_resize is not None:
        x = tf.image.resize(x, config.eval_resize, method="bilinear")
    base = tf.shape(x)[:2]
    scaled = tf.stack(scaled_size(base[0], base[1], 1.0, config.base_size))
    x = tf.cond(
        tf.reduce_all(tf.equal(scaled, base)),
        lambda: x,
        lambda: tf.image.resize(x, scaled, method="bilinear"),
    )
    logits = resize_logits(model(x[None], training=False), scaled, config.align_corners)
    return resize_logits(logits, size, config.align_corners)[0]


def segmentation_signatures(serving, model, config, *, labels=None, probabilities=False):
    """`ServingSignatures` of a segmenter (see the module's docstring).

    Args:
        serving: `SegmentationTask.serving_model(model)` (the `serving_default` graph).
        model: the segmentation model (normalised images to stride-4 logits).
        config: its `SegmentationConfig`.
        labels: class names for the label map, or None.
        probabilities: `serving_bytes` also returns the softmax probabilities.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.segmentation import SegmentationConfig, SegmentationTask
    >>> from hrnet_keras.training import ModelConfig, Recipe
    >>> task = SegmentationTask(Recipe(SegmentationConfig(num_classes=3), ModelConfig(width=4)))
    >>> served = task.serving_signatures(task.build_model())
    >>> [s.name for s in served.signatures]
    ['serving_default', 'serving_bytes']
    """
    default = from_serving_model(serving).signatures[0]
    num_classes = config.num_classes

    def per_image(image):
        logits = image_logits(model, image, config)
        outputs = (
            tf.RaggedTensor.from_tensor(tf.argmax(logits, axis=-1, output_type=tf.int32)),
            tf.shape(image)[:2],
        )
        if probabilities:
            outputs += (tf.RaggedTensor.from_tensor(tf.nn.softmax(logits, axis=-1)),)
        return outputs

    def serve_bytes(images):
        signature = (
            tf.RaggedTensorSpec((None, None), tf.int32, ragged_rank=1),
            tf.TensorSpec((2,), tf.int32),
        )
        if probabilities:
            signature += (tf.RaggedTensorSpec((None, None, num_classes), tf.float32, 1),)
        results = map_images(per_image, images, signature)
        outputs = {
            "classes": results[0].to_tensor(default_value=-1),
            "image_size": results[1],
        }
        if probabilities:
            outputs["probabilities"] = results[2].to_tensor(default_value=0.0)
        return outputs

    return ServingSignatures(
        [serving],
        [default, Signature("serving_bytes", serve_bytes, [IMAGES_SPEC])],
        labels,
    )
