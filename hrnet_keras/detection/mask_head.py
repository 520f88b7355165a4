"""The Mask R-CNN mask head (mmdetection v2's `FCNMaskHead`) and its loss."""

import keras
from keras import ops

from hrnet_keras.detection.replicas import mean_divisor
from hrnet_keras.detection.roi_align import DEFAULT_WINDOW, MultiLevelRoIAlign


@keras.saving.register_keras_serializable(package="hrnet_keras")
class FCNMaskHead(keras.layers.Layer):
    """RoIAlign 14x14 over P2..P5, four 3x3 convs, a 2x deconvolution and class masks.

    mmdetection's `FCNMaskHead` (`num_convs=4`, `conv_out_channels=256`, deconv upsampling
    by 2, ReLU after every conv and the deconv) with class-specific 28x28 mask logits.

    Args:
        num_classes: object classes, background excluded (one mask channel each).
        roi_size: RoIAlign output size (14); the masks are twice that.
        strides: strides of the pooled levels (P2..P5).
        finest_scale: `level_of_boxes`' scale of the finest level.
        conv_channels: channels of the convs and the deconvolution.
        num_convs: 3x3 convs before the deconvolution.
        sampling_ratio, aligned: RoIAlign's settings (adaptive, half-pixel aligned).
        roi_window, roi_oversize: as `RoIBoxHead`.

    Call arguments:
        features: a list of `(B, H_l, W_l, C)` levels, one per stride.
        rois: `(B, R, 4)` xyxy boxes in input pixels.

    Returns:
        `(B, R, 2 * roi_size, 2 * roi_size, num_classes)` mask logits.

    Example:
    >>> import numpy as np
    >>> head = FCNMaskHead(3, conv_channels=8)
    >>> features = [np.zeros((1, 64 // s, 64 // s, 4), "float32") for s in (4, 8, 16, 32)]
    >>> tuple(head((features, np.zeros((1, 5, 4), "float32"))).shape)
    (1, 5, 28, 28, 3)
    """

    def __init__(
        self,
        num_classes,
        *,
        roi_size=14,
        strides=(4, 8, 16, 32),
        finest_scale=56,
        conv_channels=256,
        num_convs=4,
        sampling_ratio=0,
        aligned=True,
        roi_window=DEFAULT_WINDOW,
        roi_oversize="auto",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"`num_classes` must be a positive int. Received: num_classes={num_classes!r}"
            )
        self.num_classes = num_classes
        self.roi_size = roi_size
        self.strides = tuple(strides)
        self.finest_scale = finest_scale
        self.conv_channels = conv_channels
        self.num_convs = num_convs
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned
        self.roi_align = MultiLevelRoIAlign(
            roi_size,
            self.strides,
            finest_scale,
            sampling_ratio,
            aligned,
            window=roi_window,
            oversize=roi_oversize,
            name="roi_align",
        )
        self.roi_window = self.roi_align.window
        self.roi_oversize = self.roi_align.oversize
        # mmdetection: Kaiming-normal (fan_out, ReLU) convs and deconv, zero biases.
        init = keras.initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal")
        self.convs = [
            keras.layers.Conv2D(
                conv_channels,
                3,
                padding="same",
                activation="relu",
                kernel_initializer=init,
                name=f"conv{i}",
            )
            for i in range(num_convs)
        ]
        self.upsample = keras.layers.Conv2DTranspose(
            conv_channels, 2, strides=2, activation="relu", kernel_initializer=init, name="upsample"
        )
        self.conv_logits = keras.layers.Conv2D(
            num_classes, 1, kernel_initializer=init, name="conv_logits"
        )

    def build(self, input_shape):
        feature_shapes, _ = input_shape
        channels = feature_shapes[0][-1]
        size = self.roi_size
        for conv in self.convs:
            conv.build((None, size, size, channels))
            channels = self.conv_channels
        self.upsample.build((None, size, size, channels))
        self.conv_logits.build((None, 2 * size, 2 * size, self.conv_channels))
        self.built = True

    def call(self, inputs):
        features, rois = inputs
        pooled = self.roi_align(list(features), rois)
        batch, count = ops.shape(rois)[0], ops.shape(rois)[1]
        x = ops.reshape(pooled, (-1, self.roi_size, self.roi_size, pooled.shape[-1]))
        for conv in self.convs:
            x = conv(x)
        x = self.conv_logits(self.upsample(x))
        size = 2 * self.roi_size
        return ops.reshape(x, (batch, count, size, size, self.num_classes))

    def compute_output_shape(self, input_shape):
        _, rois = input_shape
        size = 2 * self.roi_size
        return (*rois[:2], size, size, self.num_classes)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "roi_size": self.roi_size,
            "strides": self.strides,
            "finest_scale": self.finest_scale,
            "conv_channels": self.conv_channels,
            "num_convs": self.num_convs,
            "sampling_ratio": self.sampling_ratio,
            "aligned": self.aligned,
            "roi_window": self.roi_window,
            "roi_oversize": self.roi_oversize,
        }


def class_masks(mask_logits, labels):
    """Each RoI's channel of its class: `(B, R, S, S, K)` and `(B, R)` -> `(B, R, S, S)`.

    Labels outside `[0, K)` (background, padding) pick channel 0 or K - 1; callers mask them.
    """
    num_classes = mask_logits.shape[-1]
    index = ops.clip(ops.cast(labels, "int32"), 0, num_classes - 1)[:, :, None, None, None]
    return ops.take_along_axis(mask_logits, index, axis=-1)[..., 0]


def mask_loss(mask_logits, mask_targets, labels, positive):
    """Binary cross-entropy of the ground-truth class's mask over the positive RoIs.

    mmdetection v2's `mask_cross_entropy`: the mean over every pixel of every positive RoI
    of the batch (0 without positives); under a distribution strategy, of the global batch
    (mmdetection takes each GPU's own mean), so that replicas train as one device.

    Args:
        mask_logits: `(B, R, S, S, K)`.
        mask_targets: `(B, R, S, S)` binary targets.
        labels: `(B, R)` the RoIs' ground-truth classes.
        positive: `(B, R)` bool.

    Returns:
        A scalar.

    Example:
    >>> import numpy as np
    >>> logits = np.zeros((1, 2, 2, 2, 3), "float32")
    >>> round(float(mask_loss(logits, np.ones((1, 2, 2, 2)), [[1, 3]], [[True, False]])), 4)
    0.6931
    """
    logits = ops.cast(class_masks(mask_logits, labels), "float32")
    targets = ops.cast(mask_targets, "float32")
    # Stable BCE with logits: max(x, 0) - x * t + log(1 + exp(-|x|)).
    loss = ops.relu(logits) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits)))
    weight = ops.cast(positive, "float32")[:, :, None, None]
    pixels = ops.cast(ops.shape(logits)[2] * ops.shape(logits)[3], "float32")
    return ops.sum(loss * weight) / mean_divisor(ops.sum(weight) * pixels)
