"""A tiny detector learns one synthetic image: losses fall and the boxes come back."""

import keras
import numpy as np
import pytest
from detection_helpers import synthetic_batch, tiny_pyramid
from keras.utils import bounding_boxes

from hrnet_keras.detection import FasterRCNN


@pytest.mark.slow
def test_overfits_one_image():
    keras.utils.set_random_seed(0)
    images, targets = synthetic_batch(seed=1, batch=2, size=(64, 64))
    images, targets = images[:1], {k: v[:1] for k, v in targets.items()}
    model = FasterRCNN(
        tiny_pyramid(16),
        3,
        fc_channels=64,
        train_pre_nms_top_k=300,
        test_pre_nms_top_k=300,
        max_proposals=100,
        rcnn_num_samples=128,
        seed=1,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    history = model.fit(images, targets, epochs=200, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert history["loss"][-1] < 0.25 * history["loss"][0]
    assert history["rpn_cls"][-1] < 0.05 and history["rcnn_cls"][-1] < 0.2

    out = model.predict(images, verbose=0)
    gt_boxes = targets["boxes"][0][targets["labels"][0] >= 0]
    gt_labels = targets["labels"][0][targets["labels"][0] >= 0]
    confident = out["scores"][0] > 0.5
    iou = np.asarray(bounding_boxes.compute_iou(gt_boxes, out["boxes"][0][confident], "xyxy"))
    # Every box is found, with its class, by a confident detection.
    for g in range(len(gt_boxes)):
        best = int(np.argmax(iou[g]))
        assert iou[g, best] > 0.7
        assert out["labels"][0][confident][best] == gt_labels[g]
