"""The presets table: every family's options against the official code's constants, and every
other place that defaults them (builders, backbone, ModelConfig, convert, recipes) reading it."""

import inspect
import pathlib

import keras
import pytest
import torch

from hrnet_keras.convert import KIND_DEFAULTS
from hrnet_keras.models import HRNetBackbone, hrnet_classifier, hrnetv1, hrnetv1h, hrnetv2, hrnetv2p
from hrnet_keras.models.options import KEYWORDS, TRAINING_KEYWORDS, HRNetOptions
from hrnet_keras.models.presets import (
    CASCADE_DETECTOR,
    CASCADE_MASK_DETECTOR,
    CLASSIFICATION,
    DETECTION,
    DETECTOR,
    FACE,
    FAMILIES,
    MASK_DETECTOR,
    PRESETS,
    SEGMENTATION,
    preset,
)
from hrnet_keras.training import ModelConfig, load_recipe

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMALL = (64, 64, 3)

# Torch momentum in each official codebase (Keras momentum = 1 - it): cls_hrnet.py and timm
# 0.1, seg_hrnet.py (master, pytorch-v1.1) and the face code's hrnet.py 0.01, mmdetection
# torch's default 0.1.
TORCH_MOMENTUM = {
    "classification": 0.1,
    "segmentation": 0.01,
    "face": 0.01,
    "detection": 0.1,
    "detector": 0.1,
    "cascade detector": 0.1,
}
UPSAMPLE = {
    "classification": "nearest",
    "segmentation": "bilinear",
    "face": "bilinear",
    "detection": "nearest",
    "detector": "nearest",
    "cascade detector": "nearest",
}

# Every name `hrnet-keras models` printed before the table had its own module.
FORMER_NAMES = [
    *(f"hrnet_w{w}_c" for w in ("18_small_v1", "18_small_v2", 18, 30, 32, 40, 44, 48, 64)),
    *(f"hrnetv2_w{w}_cityscapes" for w in ("18_small_v1", "18_small_v2", 40, 48)),
    "hrnetv2_w18_wflw",
    *(f"hrnetv2p_w{w}" for w in (18, 32, 40, 48)),
]
FASTER_RCNN_NAMES = [
    f"faster_rcnn_hrnetv2p_w{w}_{schedule}_coco" for w in (18, 32, 40) for schedule in ("1x", "2x")
]


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_family_options_are_the_official_codes(family):
    options = family.options
    assert options.bn_momentum == pytest.approx(1 - TORCH_MOMENTUM[family.name])
    assert options.bn_epsilon == torch.nn.BatchNorm2d(1).eps
    assert options.upsample == UPSAMPLE[family.name]
    assert options.align_corners is False


def test_timm_classification_code_agrees_with_the_classification_family():
    import timm

    model = timm.create_model("hrnet_w18_small", pretrained=False)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert {round(1 - n.momentum, 6) for n in norms} == {CLASSIFICATION.options.bn_momentum}
    modes = {m.mode for m in model.modules() if isinstance(m, torch.nn.Upsample)}
    assert modes == {CLASSIFICATION.options.upsample}
    classifiers = [p for p in PRESETS if p.family is CLASSIFICATION]
    assert {p.timm_name for p in classifiers} <= set(timm.list_models("hrnet*"))
    assert len({p.timm_name for p in classifiers}) == len(classifiers)


@pytest.mark.parametrize(
    "builder, family",
    [
        (hrnetv2, SEGMENTATION),
        (hrnetv1, SEGMENTATION),
        (hrnetv1h, SEGMENTATION),
        (hrnet_classifier, CLASSIFICATION),
        (hrnetv2p, DETECTION),
    ],
    ids=lambda x: getattr(x, "__name__", getattr(x, "name", "")),
)
def test_builders_default_to_their_family_and_share_the_keywords(builder, family):
    parameters = inspect.signature(builder).parameters
    assert [k for k in parameters if k in KEYWORDS] == list(KEYWORDS)
    assert {k: parameters[k].default for k in TRAINING_KEYWORDS} == family.keywords()
    assert parameters["input_shape"].default == (None, None, 3)
    assert parameters["sync_bn"].default is False


def test_every_other_copy_reads_the_table():
    backbone = inspect.signature(HRNetBackbone.__init__).parameters
    assert {k: backbone[k].default for k in TRAINING_KEYWORDS} == CLASSIFICATION.keywords()
    config = ModelConfig()
    assert {k: getattr(config, k) for k in TRAINING_KEYWORDS} == SEGMENTATION.keywords()
    assert {
        "classifier": CLASSIFICATION.keywords(),
        "segmenter": SEGMENTATION.keywords(),
        "landmarker": FACE.keywords(),
        "hrnetv2p": DETECTION.keywords(),
        "faster_rcnn": DETECTOR.keywords(),
        "cascade_rcnn": CASCADE_DETECTOR.keywords(),
        "mask_rcnn": MASK_DETECTOR.keywords(),
        "cascade_mask_rcnn": CASCADE_MASK_DETECTOR.keywords(),
        "backbone": CLASSIFICATION.keywords(),
    } == KIND_DEFAULTS


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_a_built_preset_carries_its_family_options(family):
    entry = [p for p in PRESETS if p.family is family][-1]
    model = entry.build(width=4, input_shape=SMALL)
    if family in (DETECTOR, CASCADE_DETECTOR):  # the detector's HRNet is its backbone
        assert model.num_classes == entry.num_classes
        model = model.backbone
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert {(n.momentum, n.epsilon) for n in norms} == {
        (family.options.bn_momentum, family.options.bn_epsilon)
    }
    up = model.get_layer("stage2_module0_fuse_1_to_0_up")
    assert up.interpolation == family.options.upsample
    if entry.num_classes is not None and family not in (DETECTOR, CASCADE_DETECTOR):
        assert model.output.shape[-1] == entry.num_classes


def test_names_are_unique_and_the_former_ones_remain():
    names = [p.name for p in PRESETS]
    assert len(set(names)) == len(names)
    assert set(FORMER_NAMES) <= set(names)
    assert set(FASTER_RCNN_NAMES) <= set(names)
    assert {f"cascade_rcnn_hrnetv2p_w{w}_20e_coco" for w in (18, 32, 40)} <= set(names)
    for name in ("hrnetv2_w48_pascal_context_59", "hrnetv2_w48_lip", "hrnetv2_w18_aflw"):
        assert name in names
    with pytest.raises(ValueError, match="Received: name='hrnet_w7_c'"):
        preset("hrnet_w7_c")


def test_input_shapes_hold_the_published_sizes():
    for entry in PRESETS:
        h, w, _ = entry.input_shape
        assert h % 32 == 0 and w % 32 == 0, entry.name
        assert 0 <= h - entry.input_size[0] < 32 and 0 <= w - entry.input_size[1] < 32
    assert preset("hrnetv2_w48_lip").input_shape == (480, 480, 3)


def test_normalisation_and_checkpoints_match_the_docs():
    docs = (ROOT / "docs" / "checkpoints.md").read_text()
    for entry in PRESETS:
        assert entry.mean == (0.485, 0.456, 0.406) and entry.std == (0.229, 0.224, 0.225)
        if entry.checkpoint is not None:
            assert f"`{entry.checkpoint}`" in docs, entry.name
    face = [p for p in PRESETS if p.family is FACE]
    assert all(p.checkpoint == f"HR18-{p.name.split('_')[-1].upper()}.pth" for p in face)


def test_model_config_of_a_family_and_its_build():
    config = CLASSIFICATION.model_config(width=4, num_classes=7)
    assert (config.builder, config.upsample, config.bn_momentum) == (
        "hrnet_classifier",
        "nearest",
        0.9,
    )
    model = config.build(input_shape=SMALL)
    assert tuple(model.output.shape) == (None, 7)
    assert model.get_layer("stage2_module0_fuse_1_to_0_up").interpolation == "nearest"
    with pytest.raises(ValueError, match="Received: builder='tiny'"):
        ModelConfig(builder="tiny", width=4).build()


@pytest.mark.parametrize(
    "recipe, family",
    [
        ("wflw_hrnetv2_w18", FACE),
        ("wflw_hrnetv2_w18_small_v1", FACE),
        ("aflw_samples_tiny", FACE),
        ("cityscapes_hrnetv2_w48", SEGMENTATION),
        ("lip_hrnetv2_w48", SEGMENTATION),
        ("pascal_context_60_hrnetv2_w48", SEGMENTATION),
    ],
)
def test_recipes_take_the_model_options_of_their_family(recipe, family):
    model = load_recipe(ROOT / "recipes" / f"{recipe}.py").model
    assert model.builder == family.builder_name
    assert {k: getattr(model, k) for k in TRAINING_KEYWORDS} == family.keywords()


def test_options_are_checked_before_building():
    with pytest.raises(TypeError, match="Received: widht=48"):
        SEGMENTATION.options.replace(widht=48)
    with pytest.raises(ValueError, match="Received: align_corners=1"):
        hrnetv2(width=4, align_corners=1)
    with pytest.raises(ValueError, match="Received: sync_bn='yes'"):
        hrnetv2p(width=4, sync_bn="yes")
    with pytest.raises(ValueError, match="Received: upsample='cubic'"):
        HRNetOptions(upsample="cubic", align_corners=False, bn_momentum=0.9, bn_epsilon=1e-5)
