"""Test-time prediction: single scale, or multi-scale + flip with sliding windows.

The paper's protocol (after the official code): for every scale the image is resized (the
long side to `base_size * scale` when a base size is set); a scaled image larger than the
crop is tiled with crop-sized windows at a stride of 2/3 of the crop, the windows' logits
averaged where they overlap; flipped predictions are mirrored back (swapping left/right
labels) and averaged; the logits of every scale, resized to the input size, are averaged.
"""

import math

import numpy as np
import tensorflow as tf

from hrnet_keras.export.inference_runner import inference_runner
from hrnet_keras.segmentation.pipeline import scaled_size
from hrnet_keras.segmentation.upsample import resize_logits

# About how many bytes of logits `Predictor` resizes at once.
CHANNEL_BYTES = 64 * 2**20


def _window_spans(length, crop, stride):
    """`(start, end)` of each window along one side: every `stride`, the last one flush
    with the end."""
    count = math.ceil(max(length - crop, 0) / stride) + 1
    return [(end - crop, end) for end in (min(i * stride + crop, length) for i in range(count))]


def _resize_image(image, size):
    return tf.image.resize(image, size, method="bilinear")


class Predictor:
    """Runs a segmentation model on whole normalised images, as `SegmentationConfig` says.

    Args:
        model: a Keras model from (b, h, w, 3) normalised images to stride-4 logits.
        scales: test scales; `(1.0,)` is single scale.
        flip: also predict the mirrored image and average.
        flip_pairs: label pairs whose logits swap under a flip (LIP).
        crop_size: sliding-window size `(height, width)`, or None for whole images.
        stride_ratio: window stride as a fraction of `crop_size`.
        base_size: long side of the scale-1 image, or None for the image's own size.
        resize: fixed `(height, width)` the image is resized to first (LIP), or None.
        pad_value: per-channel value of padding (a black pixel once normalised).
        align_corners: of the logits' bilinear upsampling.
        graph: run the model through its BN-folded graph (`InferenceRunner`): `"auto"`
            once the eager calls would have paid for making it, `True` from the first
            call, `False` never (the model as built, eagerly). One graph serves every
            image size, window and flipped batch; it is made once per model and weights.
        images: how many images this predictor will see, if known (to decide at once
            whether the graph pays: each image is a call per scale and flip, and per
            window).

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import hrnetv2
    >>> model = hrnetv2(width="18-small-v1", num_classes=3)
    >>> predictor = Predictor(model, scales=(0.75, 1.0), flip=True, crop_size=(32, 32))
    >>> predictor.logits(np.zeros((40, 56, 3), "float32")).shape
    (40, 56, 3)
    """

    def __init__(
        self,
        model,
        *,
        scales=(1.0,),
        flip=False,
        flip_pairs=(),
        crop_size=None,
        stride_ratio=2 / 3,
        base_size=None,
        resize=None,
        pad_value=(0.0, 0.0, 0.0),
        align_corners=False,
        graph="auto",
        images=None,
    ):
        # A lower bound with sliding windows (one window per scale at least).
        calls = None if images is None else images * len(scales) * (2 if flip else 1)
        self.runner = inference_runner(model, graph, calls)
        self.model = self.runner.model
        self.scales = tuple(scales)
        self.flip = flip
        self.crop_size = None if crop_size is None else tuple(crop_size)
        self.stride_ratio = stride_ratio
        self.base_size = base_size
        self.resize = None if resize is None else tuple(resize)
        self.pad_value = np.asarray(pad_value, np.float32)
        self.align_corners = align_corners
        self.swap = None
        if flip_pairs:
            order = list(range(self.model.output.shape[-1]))
            for left, right in flip_pairs:
                order[left], order[right] = right, left
            self.swap = order

    def _model_logits(self, image):
        """Logits of one (h, w, 3) image at its own size, averaged with the flipped pass.

        The flipped image is a second call rather than a batch of two (as the official
        evaluation runs it): the model's peak memory is that of one image.
        """
        size = tf.shape(image)[:2]
        logits = self.runner(image[None])
        if self.flip:
            mirrored = tf.reverse(self.runner(tf.reverse(image, axis=[1])[None]), axis=[2])
            if self.swap is not None:
                mirrored = tf.gather(mirrored, self.swap, axis=-1)
            # Averaged before upsampling: bilinear resizing is linear and commutes with the
            # mirror, so this is the mean of the two upsampled maps, for one full-size map.
            logits = (logits + mirrored) / 2.0
        return resize_logits(logits, size, self.align_corners)[0]

    def _windowed_logits(self, image):
        height, width = image.shape[0], image.shape[1]
        crop_h, crop_w = self.crop_size
        if height <= crop_h and width <= crop_w:
            return self._model_logits(image)
        pad_h, pad_w = max(crop_h - height, 0), max(crop_w - width, 0)
        if pad_h or pad_w:
            fill = np.broadcast_to(self.pad_value, (height + pad_h, width + pad_w, 3)).copy()
            fill[:height, :width] = np.asarray(image)
            image = tf.constant(fill)
        full_h, full_w = height + pad_h, width + pad_w
        stride_h = max(int(crop_h * self.stride_ratio), 1)
        stride_w = max(int(crop_w * self.stride_ratio), 1)
        spans_y = _window_spans(full_h, crop_h, stride_h)
        spans_x = _window_spans(full_w, crop_w, stride_w)
        # Windows form a grid: the number covering a pixel is its row's times its column's.
        row_count = np.zeros((full_h, 1, 1), np.float32)
        col_count = np.zeros((1, full_w, 1), np.float32)
        for y0, y1 in spans_y:
            row_count[y0:y1] += 1.0
        for x0, x1 in spans_x:
            col_count[:, x0:x1] += 1.0
        total = None
        for y0, y1 in spans_y:
            for x0, x1 in spans_x:
                window = self._model_logits(image[y0:y1, x0:x1]).numpy()
                if total is None:
                    total = np.zeros((full_h, full_w, window.shape[-1]), np.float32)
                total[y0:y1, x0:x1] += window
        # In place and as a view: at the largest scales each copy of `total` is hundreds of MB.
        total /= row_count
        total /= col_count
        return total[:height, :width]

    def logits(self, image):
        """(h, w, num_classes) float32 logits of one normalised (h, w, 3) image."""
        image = tf.convert_to_tensor(image, tf.float32)
        height, width = int(image.shape[0]), int(image.shape[1])
        if self.resize is not None:
            image = _resize_image(image, self.resize)
        base_h, base_w = int(image.shape[0]), int(image.shape[1])
        total = None
        for scale in self.scales:
            size = [int(v) for v in scaled_size(base_h, base_w, scale, self.base_size)]
            scaled = image if size == [base_h, base_w] else _resize_image(image, size)
            if self.crop_size is None:
                logits = self._model_logits(scaled)
            else:
                logits = self._windowed_logits(scaled)
            del scaled
            if total is None:
                total = np.zeros((height, width, logits.shape[-1]), np.float32)
            self._add_resized(total, logits)
            del logits
        total /= len(self.scales)
        return total

    def _add_resized(self, total, logits):
        """Adds `logits` resized to `total`'s size into `total`, a few channels at a time:
        each resize copies only its channels (a 1.75x scale's 19 channels at 1792x3584 are
        488 MB), and bilinear resizing treats every channel alone, so the sum is the same."""
        step = max(1, CHANNEL_BYTES // max(1, 4 * int(logits.shape[0]) * int(logits.shape[1])))
        for start in range(0, total.shape[-1], step):
            part = logits[..., start : start + step][None]
            resized = resize_logits(part, total.shape[:2], self.align_corners)[0]
            total[..., start : start + step] += np.asarray(resized)

    def labels(self, image):
        """(h, w) int32 class ids of one normalised image."""
        return np.argmax(self.logits(image), axis=-1).astype(np.int32)
