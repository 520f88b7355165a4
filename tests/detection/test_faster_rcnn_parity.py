"""A converted mmdetection Faster R-CNN detects on real photos what the PyTorch reference
detects: the same proposals, the same box-head outputs on the same RoIs, the same detections.

The reference (`torch_faster_rcnn_reference`: torchvision's Faster R-CNN at mmdetection v2's
settings on timm's HRNet and HRFPN, random weights) is saved as an mmdetection checkpoint and
converted with `hrnet-keras convert`. Reference outputs are computed before any Keras model
runs (see `single_threaded_torch`).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("timm")

import keras  # noqa: E402
from faster_rcnn_parity import (  # noqa: E402
    assert_same_detections,
    keras_detections,
    keras_proposals,
    proposal_differences,
)
from PIL import Image  # noqa: E402
from torch_faster_rcnn_reference import (  # noqa: E402
    ROI_STRIDES,
    build_reference,
    mmdet_roi_levels,
    reference_detect,
    reference_proposals,
    reference_state_dict,
)
from torch_hrnet_reference import single_threaded_torch  # noqa: E402, F401

from hrnet_keras.cli import main  # noqa: E402
from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from hrnet_keras.detection.roi_align import DEFAULT_WINDOW  # noqa: E402

pytestmark = pytest.mark.slow

PHOTOS = ("000000000785.jpg", "000000040083.jpg", "000000196141.jpg", "000000197388.jpg")
SHORT_SIDE = 256
SMALL = "18-small-v1"
NUM_CLASSES, CHANNELS, FC = 80, 32, 64
SIZE_DIVISOR = 32
MAX_DETECTIONS = 100


def _photo(path):
    """Resized to a short side of 256 (mmdetection's keep-ratio resize), normalised."""
    image = Image.open(path).convert("RGB")
    scale = SHORT_SIDE / min(image.size)
    size = tuple(round(s * scale) for s in image.size)
    pixels = np.asarray(image.resize(size, Image.BILINEAR), "float32") / 255.0
    return (pixels - np.asarray(IMAGENET_MEAN)) / np.asarray(IMAGENET_STD)


@pytest.fixture(scope="module")
def photos(shared_data):
    """The four photos padded (bottom, right) to one multiple of 32, and their sizes."""
    images = [_photo(shared_data / "coco_persons" / name) for name in PHOTOS]
    shapes = [image.shape[:2] for image in images]
    height, width = (-(-max(s[i] for s in shapes) // SIZE_DIVISOR) * SIZE_DIVISOR for i in range(2))
    batch = np.zeros((len(images), height, width, 3), "float32")
    for i, image in enumerate(images):
        batch[i, : image.shape[0], : image.shape[1]] = image
    return batch, shapes


@pytest.fixture(scope="module")
def reference(photos):
    """Random weights, the neck and heads scaled on the photos (`calibrate_output_scales`)."""
    nchw = np.transpose(photos[0], (0, 3, 1, 2))
    return build_reference(
        SMALL, NUM_CLASSES, seed=7, channels=CHANNELS, fc_channels=FC, calibration_images=nchw
    )


@pytest.fixture(scope="module")
def expected(reference, photos):
    """The reference's proposals, detections and box-head outputs on its own proposals."""
    images, shapes = photos
    nchw = np.transpose(images, (0, 3, 1, 2))
    proposals = reference_proposals(reference, nchw, shapes)
    heads = reference.roi_heads
    with torch.no_grad():
        features = reference.backbone(torch.from_numpy(np.ascontiguousarray(nchw)))
        rois = [torch.from_numpy(p) for p in proposals]
        pooled = heads.box_roi_pool(features, rois, shapes)
        logits, deltas = heads.box_predictor(heads.box_head(pooled))
    # torchvision's background is first, mmdetection's (and Keras') last; no background deltas.
    logits = torch.cat([logits[:, 1:], logits[:, :1]], 1).numpy()
    return {
        "proposals": proposals,
        "detections": reference_detect(reference, nchw, shapes),
        "logits": logits,
        "deltas": deltas[:, 4:].numpy(),
    }


@pytest.fixture(scope="module")
def detector(reference, expected, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parity")
    state = {k: torch.from_numpy(v) for k, v in reference_state_dict(reference).items()}
    torch.save({"meta": {"epoch": 12}, "state_dict": state}, folder / "faster_rcnn.pth")
    assert main(["convert", str(folder / "faster_rcnn.pth"), str(folder / "det.keras")]) == 0
    return keras.saving.load_model(folder / "det.keras")


def _past_window(rois):
    """The RoIs the default window does not hold (extents past `short - 2` cells across or
    `long - 2` along, on their level): RoIAlign pools them a second time, exactly."""
    levels = mmdet_roi_levels(torch.from_numpy(rois)).numpy()
    cells = (rois[:, 2:] - rois[:, :2]) / np.asarray(ROI_STRIDES)[levels][:, None]
    short, long = DEFAULT_WINDOW
    return (cells.min(1) > short - 2) | (cells.max(1) > long - 2)


def test_proposals_match(detector, photos, expected):
    images, shapes = photos
    got = keras_proposals(detector, images, shapes)
    assert all(len(p) > 100 for p in got)
    assert max(proposal_differences(got, expected["proposals"])) <= 1e-3


def test_box_head_matches_on_the_same_rois(detector, photos, expected):
    images, _ = photos
    levels = detector._first_stage(images, training=False)["levels"][:4]
    count = max(len(p) for p in expected["proposals"])
    rois = np.zeros((len(images), count, 4), "float32")
    for i, p in enumerate(expected["proposals"]):
        rois[i, : len(p)] = p
    valid = np.concatenate([np.arange(count) < len(p) for p in expected["proposals"]])
    assert detector.roi_head.roi_align.window == DEFAULT_WINDOW
    past = np.concatenate([_past_window(p) for p in expected["proposals"]])
    assert past.sum() > 10
    logits, deltas = detector.roi_head((levels, rois))
    logits = np.asarray(logits).reshape(-1, NUM_CLASSES + 1)[valid]
    deltas = np.asarray(deltas).reshape(-1, 4 * NUM_CLASSES)[valid]
    for got, want in ((logits, expected["logits"]), (deltas, expected["deltas"])):
        scale = np.abs(want).max()
        assert np.abs(got - want).max() <= 1e-4 * scale
        assert np.abs(got[past] - want[past]).max() <= 1e-4 * scale


def test_detections_match(detector, photos, expected):
    images, shapes = photos
    got = keras_detections(detector, images, shapes)
    assert [len(d["scores"]) for d in got] == [MAX_DETECTIONS] * len(PHOTOS)
    assert len(np.unique(np.concatenate([d["labels"] for d in got]))) > 5
    assert_same_detections(got, expected["detections"])
    # `predict` runs the detector in a graph: RoIs past the window are pooled exactly there too.
    predicted = keras_detections(detector, images, shapes, predict=True)
    assert_same_detections(predicted, expected["detections"])


@pytest.mark.heavy
def test_published_configuration_matches(photos, tmp_path):
    """W18, 256 channels, 1024-wide fcs, 80 classes: the published detector's configuration."""
    images, shapes = photos
    images, shapes = images[:2], shapes[:2]
    nchw = np.transpose(images, (0, 3, 1, 2))
    reference = build_reference(18, NUM_CLASSES, seed=8, calibration_images=nchw)
    proposals = reference_proposals(reference, nchw, shapes)
    detections = reference_detect(reference, nchw, shapes)
    state = {k: torch.from_numpy(v) for k, v in reference_state_dict(reference).items()}
    torch.save({"state_dict": state}, tmp_path / "w18.pth")
    assert main(["convert", str(tmp_path / "w18.pth"), str(tmp_path / "w18.keras")]) == 0
    model = keras.saving.load_model(tmp_path / "w18.keras")
    assert (model.fc_channels, model.rpn_channels, model.num_classes) == (1024, 256, 80)
    got = keras_proposals(model, images, shapes)
    assert max(proposal_differences(got, proposals)) <= 1e-3
    assert_same_detections(keras_detections(model, images, shapes), detections)
