"""A converted Mask R-CNN checkpoint masks real photos as torchvision's `MaskRCNN` does, the
same weights in both: the same detections, the same 28x28 masks, and masks pasted into the
photos (mmdetection's pasting, in torch for the reference) of IoU >= 0.99 each.

The reference (`torch_mask_rcnn_reference`, random weights calibrated on the photos) is saved
as an mmdetection checkpoint and converted with `hrnet-keras convert`.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("timm")

import keras  # noqa: E402
from faster_rcnn_parity import assert_same_detections, keras_inputs, match_boxes  # noqa: E402
from PIL import Image  # noqa: E402
from torch_hrnet_reference import single_threaded_torch  # noqa: E402, F401
from torch_mask_rcnn_reference import (  # noqa: E402
    build_mask_reference,
    mask_state_dict,
    paste_reference,
    reference_masks,
)

from hrnet_keras.cli import main  # noqa: E402
from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from hrnet_keras.detection import MaskRCNN, paste_masks  # noqa: E402

# Minutes on a shared 2-core CPU (two detectors traced on real photos): not in the default run.
pytestmark = pytest.mark.heavy

PHOTOS = ("000000000785.jpg", "000000040083.jpg")
SHORT_SIDE = 192
NUM_CLASSES, CHANNELS, FC, MASK = 80, 32, 64, 32


def _photo(path):
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
    nchw = np.ascontiguousarray(np.transpose(photos[0], (0, 3, 1, 2)))
    return build_mask_reference(
        "18-small-v1",
        NUM_CLASSES,
        seed=7,
        channels=CHANNELS,
        fc_channels=FC,
        mask_channels=MASK,
        calibration_images=nchw,
    )


@pytest.fixture(scope="module")
def expected(reference, photos):
    images, shapes = photos
    return reference_masks(reference, np.transpose(images, (0, 3, 1, 2)), shapes)


@pytest.fixture(scope="module")
def detector(reference, expected, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mask_parity")
    state = {k: torch.from_numpy(v) for k, v in mask_state_dict(reference).items()}
    torch.save({"meta": {"epoch": 12}, "state_dict": state}, folder / "mask_rcnn.pth")
    assert main(["convert", str(folder / "mask_rcnn.pth"), str(folder / "det.keras")]) == 0
    return keras.saving.load_model(folder / "det.keras")


def test_detections_and_masks_match(detector, photos, expected):
    assert isinstance(detector, MaskRCNN) and detector.mask_channels == MASK
    images, shapes = photos
    out = {k: np.asarray(v) for k, v in detector(keras_inputs(images, shapes)).items()}
    got = [
        {key: out[key][i, :n] for key in ("boxes", "scores", "labels", "masks")}
        for i, n in enumerate(out["num_detections"])
    ]
    assert_same_detections(got, expected)
    same_boxes, own_boxes = [], []
    for g, w, (height, width) in zip(got, expected, shapes):
        index, _ = match_boxes(g["boxes"], w["boxes"], g["labels"], w["labels"])
        want = w["masks"][index]
        # The 28x28 probabilities of the detection's class (boxes agree to 1e-3, not exactly).
        assert np.abs(g["masks"] - want).max() <= 2e-3
        theirs = paste_reference(want, w["boxes"][index], height, width)
        for boxes, ious in ((w["boxes"][index], same_boxes), (g["boxes"], own_boxes)):
            ours = np.asarray(paste_masks(g["masks"], boxes, height, width))
            inter = (ours & theirs).sum((1, 2))
            union = (ours | theirs).sum((1, 2))
            ious.extend(inter[union > 0] / union[union > 0])
    same_boxes, own_boxes = np.asarray(same_boxes), np.asarray(own_boxes)
    assert len(same_boxes) > 50
    # The mask branch alone (both pasted in the reference's boxes): IoU >= 0.99 each.
    assert same_boxes.min() >= 0.99, same_boxes.min()
    # Each model's own boxes, 1e-3 apart: a pixel or two of the smallest masks may flip.
    assert np.median(own_boxes) >= 0.999 and own_boxes.min() >= 0.98, own_boxes.min()
