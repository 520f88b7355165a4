"""A converted mmdetection-layout Cascade Mask R-CNN masks real photos as an independent PyTorch
reference does, the same weights in both: the same detections, the same 28x28 masks, and
pasted masks of IoU >= 0.99 each.

The reference extends the Cascade R-CNN stage loop of `torch_cascade_rcnn_reference`
(torchvision ops) with one torchvision mask branch per stage (`MaskRCNNHeads`: four 3x3 convs
+ ReLU; `MaskRCNNPredictor`: a 2x2 stride-2 transposed conv + ReLU and a 1x1 conv, background
channel first), on RoIAlign 14x14 of P2..P5 at mmdetection's levels (`MMDetRoIAlign`). At
inference, as mmdetection v2's `CascadeRoIHead.simple_test`: every stage's mask branch runs on
the final detections' boxes, the sigmoid of the detection class's channel is averaged over the
stages (`merge_aug_masks`). Random weights, each mask layer centred and scaled on the photos;
saved as an mmdetection v2 checkpoint (`roi_head.mask_head.{stage}.*`, no background channel)
and converted, strictly, with `hrnet-keras convert`.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("timm")

import keras  # noqa: E402
from faster_rcnn_parity import assert_same_detections, keras_inputs, match_boxes  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402
from torch_cascade_rcnn_reference import (  # noqa: E402
    _features_and_proposals,
    build_cascade_reference,
    cascade_state_dict,
)
from torch_faster_rcnn_reference import MMDetRoIAlign, _center_and_scale  # noqa: E402
from torch_hrnet_reference import single_threaded_torch  # noqa: E402, F401
from torch_mask_rcnn_reference import paste_reference  # noqa: E402
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor  # noqa: E402

from hrnet_keras.cli import main  # noqa: E402
from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from hrnet_keras.detection import (  # noqa: E402
    CASCADE_STAGES,
    CascadeMaskRCNN,
    CascadeRCNN,
    paste_masks,
)

# Minutes on a shared 2-core CPU (two detectors traced on real photos): not in the default run.
pytestmark = pytest.mark.heavy

PHOTOS = ("000000000785.jpg", "000000040083.jpg")
SHORT_SIDE = 192
NUM_CLASSES, CHANNELS, FC, MASK = 80, 32, 64, 32


class CascadeMaskReference(nn.Module):
    """A `CascadeReference` and one torchvision mask branch per stage."""

    def __init__(self, cascade, mask_channels):
        super().__init__()
        self.cascade = cascade
        channels = cascade.faster.backbone.out_channels
        self.mask_pool = MMDetRoIAlign(output_size=14)
        self.mask_stages = nn.ModuleList(
            nn.Sequential(
                MaskRCNNHeads(channels, [mask_channels] * 4, 1),
                MaskRCNNPredictor(mask_channels, mask_channels, cascade.num_classes + 1),
            )
            for _ in cascade.stages
        )

    def detect(self, images, image_shapes=None):
        """Per image the detections and `masks` `(n, 28, 28)`: the stages' mean sigmoid."""
        features, proposals, sizes = _features_and_proposals(self.cascade, images, image_shapes)
        with torch.no_grad():
            loop = self.cascade.stage_loop(features, proposals, sizes)
            results = self.cascade.postprocess(*loop, sizes)
            boxes = [torch.from_numpy(r["boxes"]) for r in results]
            # torchvision's mask channels: the background first.
            labels = torch.cat([torch.from_numpy(r["labels"]) for r in results]) + 1
            pooled = self.mask_pool(features, boxes, sizes)
            rows = torch.arange(len(labels))
            masks = sum(stage(pooled)[rows, labels].sigmoid() for stage in self.mask_stages)
            masks = (masks / len(self.mask_stages)).split([len(b) for b in boxes])
        return [{**r, "masks": m.numpy()} for r, m in zip(results, masks)]


def build_cascade_mask_reference(seed, calibration_images):
    cascade = build_cascade_reference(
        "18-small-v1",
        NUM_CLASSES,
        seed=seed,
        channels=CHANNELS,
        fc_channels=FC,
        calibration_images=calibration_images,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed + 2)
        model = CascadeMaskReference(cascade, MASK)
        for module in model.mask_stages.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.bias, 0.0, 0.1)
    model.eval()
    images = torch.as_tensor(np.asarray(calibration_images, np.float32))
    # Each stage's layers in order, centred and scaled on the photos' detections.
    for stage in model.mask_stages:
        heads, predictor = stage
        layers = [block[0] for block in heads] + [predictor.conv5_mask, predictor.mask_fcn_logits]
        for layer, target in zip(layers, [1.0] * (len(layers) - 1) + [2.0]):
            seen = []
            hook = layer.register_forward_hook(lambda m, i, out, seen=seen: seen.append(out))
            model.detect(images)
            hook.remove()
            _center_and_scale(layer, seen, target)
    return model


def cascade_mask_state_dict(model):
    """`cascade_state_dict` plus the mask heads as mmdetection v2's `roi_head.mask_head.{i}`."""
    state = cascade_state_dict(model.cascade)
    for index, (heads, predictor) in enumerate(model.mask_stages):
        prefix = f"roi_head.mask_head.{index}"
        for i, block in enumerate(heads):
            for name, value in block[0].state_dict().items():
                state[f"{prefix}.convs.{i}.conv.{name}"] = value.numpy().copy()
        for name, value in predictor.conv5_mask.state_dict().items():
            state[f"{prefix}.upsample.{name}"] = value.numpy().copy()
        for name, value in predictor.mask_fcn_logits.state_dict().items():
            state[f"{prefix}.conv_logits.{name}"] = value.numpy()[1:].copy()
    return state


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
    return build_cascade_mask_reference(13, nchw)


@pytest.fixture(scope="module")
def expected(reference, photos):
    images, shapes = photos
    nchw = torch.as_tensor(np.ascontiguousarray(np.transpose(images, (0, 3, 1, 2))))
    return reference.detect(nchw, shapes)


@pytest.fixture(scope="module")
def detector(reference, expected, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cascade_mask_parity")
    state = {k: torch.from_numpy(v) for k, v in cascade_mask_state_dict(reference).items()}
    torch.save({"meta": {"epoch": 20}, "state_dict": state}, folder / "cascade_mask.pth")
    assert main(["convert", str(folder / "cascade_mask.pth"), str(folder / "det.keras")]) == 0
    return keras.saving.load_model(folder / "det.keras")


def test_detections_and_masks_match(detector, photos, expected):
    assert isinstance(detector, CascadeMaskRCNN) and detector.stages == CASCADE_STAGES
    assert (detector.mask_channels, detector.fc_channels) == (MASK, FC)
    images, shapes = photos
    out = {k: np.asarray(v) for k, v in detector(keras_inputs(images, shapes)).items()}
    got = [
        {key: out[key][i, :n] for key in ("boxes", "scores", "labels", "masks")}
        for i, n in enumerate(out["num_detections"])
    ]
    assert min(len(g["scores"]) for g in got) > 20
    assert_same_detections(got, expected)
    same_boxes, own_boxes, largest = [], [], 0.0
    for g, w, (height, width) in zip(got, expected, shapes):
        index, _ = match_boxes(g["boxes"], w["boxes"], g["labels"], w["labels"])
        want = w["masks"][index]
        largest = max(largest, float(np.abs(g["masks"] - want).max()))
        theirs = paste_reference(want, w["boxes"][index], height, width)
        for boxes, ious in ((w["boxes"][index], same_boxes), (g["boxes"], own_boxes)):
            ours = np.asarray(paste_masks(g["masks"], boxes, height, width))
            inter = (ours & theirs).sum((1, 2))
            union = (ours | theirs).sum((1, 2))
            ious.extend(inter[union > 0] / union[union > 0])
    same_boxes, own_boxes = np.asarray(same_boxes), np.asarray(own_boxes)
    print(
        f"28x28 largest difference {largest:.2e}; pasted IoU in the reference's boxes: "
        f"min {same_boxes.min():.4f} over {len(same_boxes)}; in each model's own boxes: "
        f"min {own_boxes.min():.4f}, median {np.median(own_boxes):.5f}"
    )
    # The 28x28 mean probabilities of the detection's class (boxes agree to 1e-3).
    assert largest <= 2e-3
    assert len(same_boxes) > 50
    # The mask branches alone (both pasted in the reference's boxes): IoU >= 0.99 each.
    assert same_boxes.min() >= 0.99, same_boxes.min()
    # Each model's own boxes, 1e-3 apart: a pixel or two of the smallest masks may flip.
    assert np.median(own_boxes) >= 0.999 and own_boxes.min() >= 0.98, own_boxes.min()


def test_conversion_is_strict_and_can_leave_the_masks_out(reference, tmp_path):
    state = {k: torch.from_numpy(v) for k, v in cascade_mask_state_dict(reference).items()}
    torch.save({"state_dict": state}, tmp_path / "whole.pth")
    argv = ["convert", str(tmp_path / "whole.pth"), str(tmp_path / "boxes.keras")]
    assert main([*argv, "--model", "cascade_rcnn"]) == 0
    boxes = keras.saving.load_model(tmp_path / "boxes.keras")
    assert type(boxes) is CascadeRCNN
    # A missing mask tensor and an unknown mask head are both errors (nothing written).
    for name, change in (
        ("missing", lambda s: s.pop("roi_head.mask_head.1.convs.2.conv.bias")),
        ("unknown", lambda s: s.update({"roi_head.mask_head.3.upsample.bias": torch.zeros(MASK)})),
    ):
        broken = dict(state)
        change(broken)
        torch.save({"state_dict": broken}, tmp_path / f"{name}.pth")
        out = tmp_path / f"{name}.keras"
        assert main(["convert", str(tmp_path / f"{name}.pth"), str(out)]) != 0
        assert not out.exists()
