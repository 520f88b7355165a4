"""The GPU recipes' mixed precision trains (checked on the CPU at tiny size)."""

import math

import keras
import numpy as np

from hrnet_keras.layers import NormOptions
from hrnet_keras.models.backbone import hrnet_features
from hrnet_keras.models.heads import dense_prediction_head
from hrnet_keras.models.representations import hrnetv2_representation
from hrnet_keras.models.spec import HRNetSpec
from hrnet_keras.segmentation import SegmentationLoss
from hrnet_keras.training.runtime import precision_policy

# An HRNetV2 segmenter with every kind of part and the fewest layers (a quick trace).
SPEC = HRNetSpec(
    "tiny", (4, 8, 16, 32), stage1_units=1, stage1_planes=4, modules=(1, 1, 1), units=1
)


def _segmenter(num_classes):
    norm = NormOptions(momentum=0.99)
    inputs = keras.Input((32, 32, 3))
    branches = hrnet_features(inputs, SPEC, norm=norm, upsample="bilinear", align_corners=False)
    x = dense_prediction_head(hrnetv2_representation(branches), num_classes, norm=norm)
    return keras.Model(inputs, x)


def test_mixed_float16_trains_a_tiny_segmenter_with_float32_weights():
    policy = precision_policy(True, gpu=True)
    assert policy == "mixed_float16"
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = _segmenter(3)
        # Keras wraps the optimizer in a LossScaleOptimizer itself (from a scale of 2^15,
        # whose first steps overflow and are skipped); a small initial scale updates at once.
        optimizer = keras.optimizers.LossScaleOptimizer(
            keras.optimizers.SGD(0.01, momentum=0.9), initial_scale=8.0
        )
        model.compile(optimizer, SegmentationLoss(3, ohem=True))
    finally:
        keras.config.set_dtype_policy(previous)
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 3, size=(2, 32, 32)).astype("int32")
    before = [np.asarray(v) for v in model.trainable_variables]
    losses = [float(model.train_on_batch(images, labels)) for _ in range(3)]
    assert all(math.isfinite(loss) for loss in losses)
    assert all(v.dtype == "float32" for v in model.weights)  # the master weights
    assert model.get_layer("stem_conv1").compute_dtype == "float16"
    assert model.output.dtype == "float16"
    after = [np.asarray(v) for v in model.trainable_variables]
    assert any(not np.array_equal(a, b) for a, b in zip(after, before))
    assert all(np.all(np.isfinite(a)) for a in after)
