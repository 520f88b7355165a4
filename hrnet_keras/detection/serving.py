"""The served detector: photos of any size in, boxes in their own pixels out.

The graph does what the evaluation pipeline does (`hrnet_keras.detection.pipeline`): resize
keeping the aspect ratio, normalise, pad to the fixed canvas; then it runs the detector and
maps the boxes back to the input's pixels. Two entry points, both exported by
`hrnet_keras.export.export_savedmodel`:

- `call(images)`: a uint8 batch `(B, H, W, 3)` of one size (the `serving_default`
  signature);
- `serve_bytes(images)`: a batch of encoded JPEG / PNG / BMP / GIF strings of any sizes,
  decoded in the graph (the `serving_bytes` signature).

A mask model's graph (Mask R-CNN, Cascade Mask R-CNN) also returns `masks`: each
detection's mask pasted into its photo (`paste_masks`, threshold 0.5) as uint8 0/1
`(B, M, H, W)` at the photo's own resolution (for encoded files of several sizes, the
largest height and width of the batch, each photo's masks top-left and zero beyond it); or,
with `paste_masks=False`, the 28x28 probabilities in each box, for clients that paste
themselves.
"""

import keras
import tensorflow as tf

from hrnet_keras.detection.mask_paste import paste_masks
from hrnet_keras.detection.pipeline import resize_image, to_canvas
from hrnet_keras.export.serving_inputs import IMAGES_SPEC, check_uint8_images, map_images

OUTPUT_NAMES = ("boxes", "scores", "labels", "num_detections")


def boxes_in_input_pixels(boxes, scale, original_shape):
    """Boxes of resized images back in the pixels of the originals, clipped to them (TF).

    Args:
        boxes: `(B, M, 4)` `xyxy` in resized pixels.
        scale: `(B, 2)` (height, width) scales from original to resized pixels.
        original_shape: `(B, 2)` (height, width) of the originals.

    Returns:
        float32 `(B, M, 4)`.

    Example:
    >>> boxes_in_input_pixels(
    ...     tf.constant([[[10.0, 10.0, 50.0, 300.0]]]), tf.constant([[2.0, 0.5]]),
    ...     tf.constant([[100, 200]])).numpy().tolist()
    [[[20.0, 5.0, 100.0, 100.0]]]
    """
    scale = tf.cast(scale, tf.float32)
    size = tf.cast(original_shape, tf.float32)
    factors = tf.concat([scale[:, ::-1], scale[:, ::-1]], axis=-1)[:, None, :]
    limits = tf.concat([size[:, ::-1], size[:, ::-1]], axis=-1)[:, None, :]
    return tf.clip_by_value(tf.cast(boxes, tf.float32) / factors, 0.0, limits)


def pasted_masks(masks, boxes, original_shape):
    """`(B, M, S, S)` box masks pasted into their photos: uint8 `(B, M, H, W)` of 0/1, with
    `(H, W)` the largest original size, each photo's pixels past its own size zero."""
    original_shape = tf.cast(original_shape, tf.int32)
    height = tf.reduce_max(original_shape[:, 0])
    width = tf.reduce_max(original_shape[:, 1])
    batch, rows, size = tf.shape(masks)[0], tf.shape(masks)[1], masks.shape[-1]
    flat = paste_masks(
        tf.reshape(masks, (-1, size, size)), tf.reshape(boxes, (-1, 4)), height, width
    )
    pasted = tf.reshape(flat, (batch, rows, height, width))
    inside_y = tf.range(height)[None, :] < original_shape[:, :1]
    inside_x = tf.range(width)[None, :] < original_shape[:, 1:]
    inside = tf.logical_and(inside_y[:, None, :, None], inside_x[:, None, None, :])
    return tf.cast(tf.logical_and(pasted, inside), tf.uint8)


class DetectionServing(keras.Model):
    """A detector behind the evaluation pipeline's preprocessing, for serving.

    Args:
        detector: a `hrnet_keras.detection.FasterRCNN`.
        data_config: the `DetectionDataConfig` (sizes, canvas, normalisation) it was
            trained with.
        paste_masks: a Mask R-CNN's `masks` pasted into the photos (True) or its 28x28
            box masks (False).

    Call arguments:
        images: uint8 RGB `(B, H, W, 3)`, any height and width (one for the batch).

    Returns:
        `{"boxes": (B, M, 4) float32 xyxy in the input's pixels, "scores": (B, M) float32,
        "labels": (B, M) int32 contiguous class (-1 padding), "num_detections": (B,) int32}`,
        and for a Mask R-CNN `"masks"` (see the module).
    """

    input_signature = (tf.TensorSpec((None, None, None, 3), tf.uint8, name="images"),)

    def __init__(self, detector, data_config, *, paste_masks=True, **kwargs):
        kwargs.setdefault("name", f"{detector.name}_serving")
        super().__init__(**kwargs)
        self.detector = detector
        self.data_config = data_config
        self.paste_masks = bool(paste_masks)
        # Nothing of its own to build: its weights are the (built) detector's.
        self.built = True

    def _detect(self, canvas, resized_shape, scale, original_shape):
        outputs = self.detector({"images": canvas, "image_shape": resized_shape}, training=False)
        served = {
            "boxes": boxes_in_input_pixels(outputs["boxes"], scale, original_shape),
            "scores": tf.cast(outputs["scores"], tf.float32),
            "labels": tf.cast(outputs["labels"], tf.int32),
            "num_detections": tf.cast(outputs["num_detections"], tf.int32),
        }
        if "masks" in outputs:
            masks = tf.cast(outputs["masks"], tf.float32)
            if self.paste_masks:
                masks = pasted_masks(masks, served["boxes"], original_shape)
            served["masks"] = masks
        return served

    def call(self, images, training=False):
        images = tf.convert_to_tensor(images)
        if images.dtype != tf.uint8:
            raise ValueError(
                f"The served detector takes uint8 RGB images. Received: dtype={images.dtype.name}"
            )
        images = check_uint8_images(images)
        batch = tf.shape(images)[0]
        resized, size, scale = resize_image(images, self.data_config)
        canvas = to_canvas(resized, self.data_config)
        return self._detect(
            canvas,
            tf.broadcast_to(tf.stack(size)[None, :], [batch, 2]),
            tf.broadcast_to(tf.stack(scale)[None, :], [batch, 2]),
            tf.broadcast_to(tf.shape(images)[1:3][None, :], [batch, 2]),
        )

    @tf.function(input_signature=[IMAGES_SPEC])
    def serve_bytes(self, images):
        """Encoded photos (JPEG, PNG, BMP, GIF; any sizes) in, `call`'s outputs out, the
        boxes in each photo's own pixels; decoded and checked by
        `hrnet_keras.export.serving_inputs`."""
        config = self.data_config
        canvas_h, canvas_w = config.canvas

        def prepare(image):
            resized, size, scale = resize_image(image, config)
            return to_canvas(resized, config), tf.stack(size), tf.stack(scale), tf.shape(image)[:2]

        canvas, size, scale, original = map_images(
            prepare,
            images,
            fn_output_signature=(
                tf.TensorSpec((canvas_h, canvas_w, 3), tf.float32),
                tf.TensorSpec((2,), tf.int32),
                tf.TensorSpec((2,), tf.float32),
                tf.TensorSpec((2,), tf.int32),
            ),
        )
        return self._detect(canvas, size, scale, original)


def detection_serving_model(model, data_config, *, paste_masks=True):
    """`model` (a `FasterRCNN` or `MaskRCNN`) served on uint8 photos or encoded files of any size.

    Args:
        model: the detector.
        data_config: the `DetectionDataConfig` of its training (a `DetectionConfig` is one).
        paste_masks: a Mask R-CNN's masks pasted into the photos, or 28x28 in their boxes.

    Returns:
        A `DetectionServing` (see there for its inputs and outputs).

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.detection.reader import DetectionDataConfig
    >>> from hrnet_keras.models import faster_rcnn
    >>> detector = faster_rcnn(width=4, num_classes=2, channels=8, fc_channels=8,
    ...                        max_detections=5)
    >>> served = detection_serving_model(detector, DetectionDataConfig(min_size=64, max_size=96))
    >>> out = served(np.zeros((1, 40, 90, 3), np.uint8))
    >>> {k: tuple(v.shape) for k, v in out.items()}
    {'boxes': (1, 5, 4), 'scores': (1, 5), 'labels': (1, 5), 'num_detections': (1,)}
    """
    return DetectionServing(model, data_config, paste_masks=paste_masks)
