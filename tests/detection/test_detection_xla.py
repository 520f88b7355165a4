"""One training step of the detector compiled by XLA (on the CPU here)."""

import keras
import numpy as np
import pytest
from detection_helpers import synthetic_batch, tiny_pyramid

from hrnet_keras.detection import FasterRCNN
from hrnet_keras.detection.faster_rcnn import LOSS_NAMES


@pytest.mark.slow
def test_train_step_compiles_with_xla():
    keras.utils.set_random_seed(0)
    images, targets = synthetic_batch(seed=0, batch=2, size=(64, 96))
    model = FasterRCNN(
        tiny_pyramid(),
        3,
        fc_channels=32,
        train_pre_nms_top_k=300,
        max_proposals=100,
        rcnn_num_samples=64,
        seed=1,
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=True)
    first = model.train_on_batch(images, targets, return_dict=True)
    second = model.train_on_batch(images, targets, return_dict=True)
    for result in (first, second):
        assert set(result) == {"loss", *LOSS_NAMES}
        assert all(np.isfinite(v) for v in result.values())
    assert first["rpn_cls"] == pytest.approx(np.log(2), abs=0.05)
