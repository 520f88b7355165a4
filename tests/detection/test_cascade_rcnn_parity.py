"""A converted mmdetection-layout Cascade R-CNN detects on real photos what an independent
PyTorch stage loop (`torch_cascade_rcnn_reference`, torchvision ops) detects.

The reference's random weights are saved as an mmdetection v2 Cascade R-CNN checkpoint
(`roi_head.bbox_head.{stage}.*`) and converted, strictly, with `hrnet-keras convert`.
Reference outputs are computed before any Keras model runs (`single_threaded_torch`).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("timm")

import keras  # noqa: E402
from faster_rcnn_parity import assert_same_detections, keras_detections  # noqa: E402
from PIL import Image  # noqa: E402
from torch_cascade_rcnn_reference import (  # noqa: E402
    build_cascade_reference,
    cascade_detect,
    cascade_state_dict,
)
from torch_hrnet_reference import single_threaded_torch  # noqa: E402, F401

from hrnet_keras.cli import main  # noqa: E402
from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from hrnet_keras.detection import CASCADE_STAGES, CascadeRCNN  # noqa: E402

pytestmark = pytest.mark.slow

PHOTOS = ("000000000785.jpg", "000000040083.jpg", "000000196141.jpg")
SHORT_SIDE = 256
NUM_CLASSES, CHANNELS, FC = 80, 32, 64


def _photo(path):
    """Resized to a short side of 256 (aspect kept), normalised with the ImageNet statistics."""
    image = Image.open(path).convert("RGB")
    scale = SHORT_SIDE / min(image.size)
    size = tuple(round(s * scale) for s in image.size)
    pixels = np.asarray(image.resize(size, Image.BILINEAR), "float32") / 255.0
    return (pixels - np.asarray(IMAGENET_MEAN)) / np.asarray(IMAGENET_STD)


@pytest.fixture(scope="module")
def photos(shared_data):
    images = [_photo(shared_data / "coco_persons" / name) for name in PHOTOS]
    shapes = [image.shape[:2] for image in images]
    height, width = (-(-max(s[i] for s in shapes) // 32) * 32 for i in range(2))
    batch = np.zeros((len(images), height, width, 3), "float32")
    for i, image in enumerate(images):
        batch[i, : image.shape[0], : image.shape[1]] = image
    return batch, shapes


@pytest.fixture(scope="module")
def reference(photos):
    nchw = np.transpose(photos[0], (0, 3, 1, 2))
    return build_cascade_reference(
        "18-small-v1",
        NUM_CLASSES,
        seed=11,
        channels=CHANNELS,
        fc_channels=FC,
        calibration_images=nchw,
    )


@pytest.fixture(scope="module")
def expected(reference, photos):
    images, shapes = photos
    return cascade_detect(reference, np.transpose(images, (0, 3, 1, 2)), shapes)


@pytest.fixture(scope="module")
def detector(reference, expected, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cascade_parity")
    state = {k: torch.from_numpy(v) for k, v in cascade_state_dict(reference).items()}
    torch.save({"meta": {"epoch": 20}, "state_dict": state}, folder / "cascade.pth")
    assert main(["convert", str(folder / "cascade.pth"), str(folder / "cascade.keras")]) == 0
    return keras.saving.load_model(folder / "cascade.keras")


def test_converted_checkpoint_is_a_cascade(detector):
    assert isinstance(detector, CascadeRCNN)
    assert detector.stages == CASCADE_STAGES
    assert (detector.num_classes, detector.fc_channels) == (NUM_CLASSES, FC)


def test_detections_match(detector, photos, expected):
    images, shapes = photos
    got = keras_detections(detector, images, shapes)
    assert [len(d["scores"]) for d in got] == [len(d["scores"]) for d in expected]
    assert min(len(d["scores"]) for d in got) > 20
    assert len(np.unique(np.concatenate([d["labels"] for d in got]))) > 5
    assert_same_detections(got, expected)
    predicted = keras_detections(detector, images, shapes, predict=True)
    assert_same_detections(predicted, expected)
