"""The detector's multiply-add count (benchmarks/detection_flops.py) against counts by hand."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "benchmarks"))

from detection_flops import detector_counts

from hrnet_keras.models import faster_rcnn, multiply_adds


@pytest.mark.slow
def test_parts_match_hand_counts():
    width, channels, fc, classes, rois = 8, 16, 32, 3, 10
    shape = (64, 96, 3)
    model = faster_rcnn(
        width=width,
        num_classes=classes,
        channels=channels,
        rpn_channels=channels,
        fc_channels=fc,
        input_shape=shape,
    )
    parts = detector_counts(model, rois)
    cells = [int(level.shape[1] * level.shape[2]) for level in model.backbone.output.values()]
    anchors = 3
    assert parts["rpn_head"] == [
        sum(cells) * channels * (9 * channels + 5 * anchors),
        sum(cells) * (channels + 5 * anchors),
    ]
    # HRFPN: the 1x1 reduction of the 15 * width concatenated channels, a 3x3 conv a level.
    reduction = cells[0] * 15 * width * channels
    assert parts["hrfpn"] == [
        reduction + sum(cells) * 9 * channels * channels,
        (cells[0] + sum(cells)) * channels,
    ]
    assert parts["hrnet"][0] + parts["hrfpn"][0] == multiply_adds(model.backbone, shape)
    assert parts["box_fcs"] == [rois * (49 * channels * fc + fc * fc), 2 * rois * fc]
    assert parts["box_predictors"][0] == rois * fc * (classes + 1 + 4 * classes)
    # The separable RoIAlign: 7 long-side bins from a 64-cell side, then the 7 x 7 bins.
    assert parts["roi_align"][0] == rois * channels * (7 * 64 * 32 + 7 * 7 * 32)
