"""ResNet-FPN, the paper's detection baseline: parity with torchvision's ResNet-50 and FPN,
the checkpoint table, mmdetection's parameter counts, the detector, saving and the preset."""

import keras
import numpy as np
import pytest
from detection_helpers import synthetic_batch
from keras_test_helpers import relative_error, trainable_parameters

from hrnet_keras.convert.resnet import load_resnet_fpn_weights, resnet_fpn_weights
from hrnet_keras.detection import FasterRCNN
from hrnet_keras.detection.backbone_weights import load_backbone_weights
from hrnet_keras.layers import Resize
from hrnet_keras.models import ResNetBackbone, faster_rcnn, fpn, resnet_fpn
from hrnet_keras.models.presets import DETECTION, preset

X = np.random.default_rng(0).normal(size=(2, 64, 96, 3)).astype("float32")
IN_CHANNELS = [256, 512, 1024, 2048]
SMALL_HEADS = {
    "fc_channels": 32,
    "train_pre_nms_top_k": 300,
    "test_pre_nms_top_k": 300,
    "max_proposals": 100,
    "rcnn_num_samples": 64,
    "max_detections": 20,
    "seed": 1,
}


def torch_style_total(model):
    """PyTorch's parameter count of every weight, frozen or not (no BN moving statistics)."""
    return int(
        sum(
            np.prod(v.shape)
            for v in model.trainable_weights + model.non_trainable_weights
            if not v.path.endswith(("moving_mean", "moving_variance"))
        )
    )


def mmdet_parameters(depth, num_classes=80):
    """(total, trainable) of mmdetection's `faster_rcnn_r{depth}_fpn_1x`, rebuilt from
    torchvision modules: ResNet without `fc`, FPN(256) with max-pooled P6 (no weights), RPN
    head (3x3 conv, 3 sigmoid scores and 12 deltas a location), two fc layers of 1024, then
    mmdetection's predictor shapes: `num_classes + 1` scores (background included) and
    `4 * num_classes` deltas (class-specific, background excluded). `frozen_stages=1` takes
    the stem and stage 1 out of the trainable count."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.rpn import RPNHead
    from torchvision.ops import FeaturePyramidNetwork
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

    resnet = getattr(torchvision.models, f"resnet{depth}")()
    modules = [
        *(m for name, m in resnet.named_children() if name != "fc"),
        FeaturePyramidNetwork(IN_CHANNELS, 256, extra_blocks=LastLevelMaxPool()),
        RPNHead(256, 3),
        TwoMLPHead(256 * 7 * 7, 1024),
        FastRCNNPredictor(1024, num_classes + 1).cls_score,
        FastRCNNPredictor(1024, num_classes).bbox_pred,
    ]
    assert isinstance(modules[0], torch.nn.Conv2d)

    def count(parts):
        return sum(p.numel() for m in parts for p in m.parameters())

    total = count(modules)
    return total, total - count([resnet.conv1, resnet.bn1, resnet.layer1])


@pytest.fixture(scope="module")
def reference():
    """torchvision's ResNet-50 body and FPN with LastLevelMaxPool (mmdetection's FPN with
    `add_extra_convs=False`), random weights, statistics and biases, in eval mode; its state
    dict in torchvision's and in mmdetection's layout."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

    torch.manual_seed(0)
    resnet = torchvision.models.resnet50()
    with torch.no_grad():
        for m in resnet.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    imagenet = resnet.state_dict()
    model = BackboneWithFPN(
        resnet,
        {f"layer{i}": f"C{i + 1}" for i in range(1, 5)},
        IN_CHANNELS,
        256,
        extra_blocks=LastLevelMaxPool(),
    ).eval()
    with torch.no_grad():
        for name, p in model.fpn.named_parameters():
            if name.endswith("bias"):  # torchvision initialises them to zero
                p.normal_(0.0, 0.1)
    mmdet = {}
    for key, value in model.state_dict().items():
        if key.startswith("body."):
            mmdet["backbone." + key.removeprefix("body.")] = value
        else:  # fpn.inner_blocks.{i}.0.weight -> neck.lateral_convs.{i}.conv.weight
            block, i, _, param = key.removeprefix("fpn.").split(".")
            module = {"inner_blocks": "lateral_convs", "layer_blocks": "fpn_convs"}[block]
            mmdet[f"neck.{module}.{i}.conv.{param}"] = value
    with torch.no_grad():
        images = torch.from_numpy(X).permute(0, 3, 1, 2)
        features = model.body(images)
        levels = model.fpn(features)
    outputs = {k: v.permute(0, 2, 3, 1).numpy() for k, v in features.items()}
    for n, value in zip(range(2, 7), levels.values()):
        outputs[f"P{n}"] = value.permute(0, 2, 3, 1).numpy()
    return {"imagenet": imagenet, "mmdet": mmdet, "outputs": outputs}


@pytest.fixture(scope="module")
def resnet50_fpn():
    """The preset's model (mmdetection's options, stage 1 frozen), with C2..C5 exposed too."""
    model = preset("resnet50_fpn").build()
    features = {
        f"C{i + 1}": model.get_layer(f"layer{i}_{n - 1}_out").output
        for i, n in enumerate((3, 4, 6, 3), start=1)
    }
    return keras.Model(model.input, {**features, **model.output}, name=model.name)


def test_features_and_pyramid_match_torchvision(reference, resnet50_fpn):
    report = load_resnet_fpn_weights(resnet50_fpn, reference["mmdet"])
    assert report.filled == 265 + 16  # 53 convs, 53 batch norms x 4; 8 FPN convs x 2
    assert report.skipped == []
    assert all(k.endswith("num_batches_tracked") for k in report.ignored)
    outputs = resnet50_fpn(X)
    assert sorted(outputs) == sorted(reference["outputs"])
    for name, expected in reference["outputs"].items():
        assert outputs[name].shape == expected.shape, name
        assert relative_error(outputs[name], expected) < 1e-4, name


def test_imagenet_checkpoint_fills_the_backbone_alone(reference, tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "resnet50.pth"
    torch.save(reference["imagenet"], path)
    backbone = ResNetBackbone(50, image_shape=(64, 96, 3))
    report = load_resnet_fpn_weights(backbone, path)
    assert report.filled == 265 and report.skipped == []
    assert {"fc.weight", "fc.bias"} <= set(report.ignored)
    outputs = backbone(X)
    for name in ("C2", "C5"):
        assert relative_error(outputs[name], reference["outputs"][name]) < 1e-4

    # The neck is not in an ImageNet checkpoint: left as initialised, and reported.
    model = resnet_fpn(channels=16, weights=path)
    report = load_resnet_fpn_weights(model, reference["imagenet"])
    assert report.skipped == [f"{kind}_convs_{i}" for kind in ("fpn", "lateral") for i in range(4)]
    np.testing.assert_array_equal(
        model.get_layer("layer4_2_bn3").moving_variance,
        reference["imagenet"]["layer4.2.bn3.running_var"].numpy(),
    )


def test_a_detector_recipe_starts_its_resnet_from_the_imagenet_file(reference, tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "resnet50.pth"
    torch.save(reference["imagenet"], path)
    detector = faster_rcnn(backbone="resnet50", num_classes=3, channels=16, fc_channels=32)
    fill = load_backbone_weights(detector, path)
    assert "layer4_2_conv3" in fill.filled and "fpn_convs_0" in fill.initialised
    assert {"fc.weight", "fc.bias"} <= set(fill.ignored)
    np.testing.assert_array_equal(
        detector.backbone.get_layer("layer4_2_bn3").moving_variance,
        reference["imagenet"]["layer4.2.bn3.running_var"].numpy(),
    )


def test_weight_table_is_strict(reference, resnet50_fpn):
    mmdet = reference["mmdet"]
    weights = resnet_fpn_weights(mmdet)
    assert weights["layer1_0_downsample_0/kernel"].shape == (1, 1, 64, 256)
    assert weights["layer1_0_downsample_1/moving_variance"].shape == (256,)
    assert weights["lateral_convs_3/kernel"].shape == (1, 1, 2048, 256)
    assert weights["fpn_convs_0/bias"].shape == (256,)
    with_heads = {**mmdet, "rpn_head.rpn_conv.weight": np.zeros((256, 256, 3, 3))}
    assert resnet_fpn_weights(with_heads).keys() == weights.keys()
    with pytest.raises(ValueError, match="detector heads"):
        load_resnet_fpn_weights(resnet50_fpn, with_heads)
    with pytest.raises(ValueError, match=r"Received: keys=backbone\.layer5\.0\.conv1\.weight"):
        resnet_fpn_weights({**mmdet, "backbone.layer5.0.conv1.weight": np.zeros((1, 1, 1, 1))})
    with pytest.raises(ValueError, match=r"Received: keys=neck\.extra\.weight"):
        resnet_fpn_weights({**mmdet, "neck.extra.weight": np.zeros(1)})
    missing = {k: v for k, v in mmdet.items() if k != "backbone.layer3.5.bn2.running_var"}
    with pytest.raises(ValueError, match=r"layer3_5_bn2/moving_variance \(not in the checkpoint"):
        load_resnet_fpn_weights(resnet50_fpn, missing)
    misshaped = {**mmdet, "neck.fpn_convs.1.conv.bias": np.zeros(128)}
    with pytest.raises(ValueError, match=r"fpn_convs_1/bias \(128,\) for \(256,\)"):
        load_resnet_fpn_weights(resnet50_fpn, misshaped)
    deeper = {**mmdet, **{f"backbone.layer3.{b}.conv1.weight": 0 for b in range(6, 23)}}
    with pytest.raises(ValueError, match=r"holds a ResNet-101, but model .* is a ResNet-50"):
        load_resnet_fpn_weights(resnet50_fpn, deeper)


@pytest.fixture(scope="module")
def detector():
    return faster_rcnn(backbone="resnet50", num_classes=80)


def test_parameters_equal_mmdet(detector):
    expected_total, expected_trainable = mmdet_parameters(50)
    assert (expected_total, expected_trainable) == (41_753_056, 41_527_712)
    assert torch_style_total(detector) == expected_total
    # frozen_stages=1: conv1, bn1 and layer1 (225,344 parameters) are not trained.
    assert trainable_parameters(detector) == expected_trainable
    assert detector.norm_eval and detector.name == "faster_rcnn_resnet50_fpn"


@pytest.mark.slow
def test_resnet101_parameters_and_no_frozen_stage():
    expected_total, _ = mmdet_parameters(101)
    model = faster_rcnn(backbone="resnet101", num_classes=80, frozen_stages=-1)
    assert trainable_parameters(model) == torch_style_total(model) == expected_total


@pytest.mark.slow
def test_detector_forward_at_128(detector):
    images = np.random.default_rng(1).normal(size=(1, 128, 128, 3)).astype("float32")
    out = {k: np.asarray(v) for k, v in detector(images).items()}
    assert out["boxes"].shape == (1, 100, 4) and out["scores"].shape == (1, 100)
    assert out["labels"].shape == (1, 100) and out["num_detections"].shape == (1,)
    # An untrained head scores each of 81 classes about 1/81, under the 0.05 threshold.
    count = out["num_detections"][0]
    assert (out["labels"][0, count:] == -1).all() and (out["scores"][0, count:] == 0).all()
    first = detector(images, training=True)
    proposals = np.asarray(first["proposals"])[np.asarray(first["proposal_valid"])]
    assert len(proposals) > 0
    assert (proposals >= 0).all() and (proposals <= 128).all()
    assert [tuple(x.shape[1:3]) for x in first["levels"]] == [
        (32, 32),
        (16, 16),
        (8, 8),
        (4, 4),
        (2, 2),
    ]


@pytest.mark.slow
def test_fit_step_trains_all_but_the_frozen_stages():
    images, targets = synthetic_batch(seed=0, batch=2, size=(128, 128), num_classes=3)
    keras.utils.set_random_seed(0)
    model = faster_rcnn(backbone="resnet50", num_classes=3, channels=32, **SMALL_HEADS)
    backbone = model.backbone
    watched = {
        "frozen": backbone.get_layer("layer1_2_conv3").kernel,
        "trained": backbone.get_layer("layer4_2_conv3").kernel,
        "statistics": backbone.get_layer("layer3_0_bn1").moving_mean,
        "head": model.roi_head.weights[0],
    }
    before = {k: np.asarray(v).copy() for k, v in watched.items()}
    model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
    history = model.fit(images, targets, batch_size=2, epochs=1, verbose=0).history
    assert all(np.isfinite(v[0]) and v[0] > 0 for v in history.values())
    changed = {k: not np.array_equal(before[k], np.asarray(v)) for k, v in watched.items()}
    # norm_eval: the batch norms keep their statistics; frozen_stages=1: layer1 its weights.
    assert changed == {"frozen": False, "trained": True, "statistics": False, "head": True}


def test_frozen_batch_norms_keep_their_statistics_in_training():
    backbone = ResNetBackbone(50, frozen_stages=1, image_shape=(64, 96, 3))
    watched = ("bn1", "layer1_0_downsample_1", "layer2_0_bn1", "layer4_2_bn3")
    before = [np.asarray(backbone.get_layer(n).moving_mean).copy() for n in watched]
    backbone(X, training=True)
    after = [np.asarray(backbone.get_layer(n).moving_mean) for n in watched]
    assert [not np.array_equal(a, b) for a, b in zip(before, after)] == [
        False,
        False,
        True,
        True,
    ]


@pytest.mark.slow
def test_backbone_keras_file_round_trip(tmp_path):
    backbone = ResNetBackbone(50, frozen_stages=2)
    rng = np.random.default_rng(2)
    for layer in backbone.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape))
    path = tmp_path / "resnet50.keras"
    backbone.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, ResNetBackbone)
    assert restored.get_config() == backbone.get_config()
    assert trainable_parameters(restored) == trainable_parameters(backbone)
    assert not restored.get_layer("layer2_3_bn3").trainable
    assert restored.get_layer("layer3_0_conv1").trainable
    expected, actual = backbone(X), restored(X)
    assert sorted(actual) == ["C2", "C3", "C4", "C5"]
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], rtol=1e-5, atol=1e-5)


def test_preset_row_has_the_detection_options(resnet50_fpn):
    entry = preset("resnet50_fpn")
    assert entry.family.keywords() == DETECTION.keywords()
    assert entry.input_shape == (800, 1216, 3) and entry.width is None
    norms = [
        layer for layer in resnet50_fpn.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert len(norms) == 53
    assert {(n.momentum, n.epsilon) for n in norms} == {(0.9, 1e-5)}
    up = [layer for layer in resnet50_fpn.layers if isinstance(layer, Resize)]
    assert [u.interpolation for u in up] == ["nearest"] * 3
    convs = [layer for layer in resnet50_fpn.layers if isinstance(layer, keras.layers.Conv2D)]
    assert {c.name for c in convs if c.use_bias} == {
        f"{kind}_convs_{i}" for kind in ("lateral", "fpn") for i in range(4)
    }


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="Received: backbone='resnet18'"):
        faster_rcnn(backbone="resnet18")
    with pytest.raises(ValueError, match="Received: frozen_stages=1"):
        faster_rcnn(width=8, frozen_stages=1)
    with pytest.raises(ValueError, match="Received: depth=34"):
        ResNetBackbone(34)
    with pytest.raises(ValueError, match="Received: frozen_stages=5"):
        ResNetBackbone(50, frozen_stages=5)
    with pytest.raises(ValueError, match="Received: image_shape=\\(100, 64, 3\\)"):
        ResNetBackbone(50, image_shape=(100, 64, 3))
    gap = {"C2": keras.Input((8, 8, 4)), "C4": keras.Input((2, 2, 4))}
    with pytest.raises(ValueError, match=r"Received: features keys=\['C2', 'C4'\]"):
        fpn(gap)
    with pytest.raises(ValueError, match="Received: extra_levels=-1"):
        fpn({"C2": keras.Input((8, 8, 4))}, extra_levels=-1)


def test_faster_rcnn_is_a_detector_on_the_pyramid(detector):
    assert isinstance(detector, FasterRCNN)
    assert sorted(detector.backbone.output) == ["P2", "P3", "P4", "P5", "P6"]
    assert {v.shape[-1] for v in detector.backbone.output.values()} == {256}
