"""The named HRNet models: one table of how to build each, at which size and normalisation
it runs, what its authors report, and where its checkpoint comes from.

A `Family` is what every model trained by one official codebase shares (builder, fusion
upsampling, BN momentum / epsilon, normalisation, checkpoint source); a `Preset` is one
published model of a family. `hrnet-keras models` prints the table, `hrnet-keras convert`
takes its per-kind defaults from the families, and recipes start from a family's
`model_config`.

Example:
>>> from hrnet_keras.models.presets import preset
>>> wflw = preset("hrnetv2_w18_wflw")
>>> wflw.family.options.bn_momentum, wflw.input_size, wflw.checkpoint
(0.99, (256, 256), 'HR18-WFLW.pth')
"""

import dataclasses
import math

# Until the shared data layer holds them, the ImageNet statistics live with the segmentation
# config; every official codebase normalises RGB / 255 with them (mmdetection in 0-255 units).
from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD
from hrnet_keras.models.cascade_mask_rcnn import cascade_mask_rcnn
from hrnet_keras.models.cascade_rcnn import cascade_rcnn
from hrnet_keras.models.classifier import hrnet_classifier
from hrnet_keras.models.faster_rcnn import faster_rcnn
from hrnet_keras.models.fpn import resnet_fpn
from hrnet_keras.models.hrnetv1 import hrnetv1, hrnetv1h
from hrnet_keras.models.hrnetv2 import hrnetv2
from hrnet_keras.models.hrnetv2p import hrnetv2p
from hrnet_keras.models.mask_rcnn import mask_rcnn
from hrnet_keras.models.options import (
    CLASSIFICATION_DEFAULTS,
    DETECTION_DEFAULTS,
    FACE_DEFAULTS,
    SEGMENTATION_DEFAULTS,
    TRAINING_KEYWORDS,
)

# The builders a `ModelConfig.builder` may name.
BUILDERS = {
    "hrnetv2": hrnetv2,
    "hrnetv1": hrnetv1,
    "hrnetv1h": hrnetv1h,
    "hrnetv2p": hrnetv2p,
    "hrnet_classifier": hrnet_classifier,
    "faster_rcnn": faster_rcnn,
    "mask_rcnn": mask_rcnn,
    "cascade_rcnn": cascade_rcnn,
    "cascade_mask_rcnn": cascade_mask_rcnn,
}
# The builders whose model has a separate backbone: `ModelConfig.backbone` and
# `ModelConfig.backbone_weights` apply to them.
BACKBONE_BUILDERS = frozenset({"faster_rcnn", "mask_rcnn", "cascade_rcnn", "cascade_mask_rcnn"})


@dataclasses.dataclass(frozen=True)
class Family:
    """What the checkpoints of one official codebase share.

    Attributes:
        name: `"classification"`, `"segmentation"`, `"face"`, `"detection"` (backbone and
            neck), `"detector"` (the whole Faster R-CNN) or `"cascade detector"` (the whole
            Cascade R-CNN).
        builder: the `hrnet_keras.models` builder of its models.
        options: the `HRNetOptions` its checkpoints were trained with (upsample,
            align_corners, bn_momentum, bn_epsilon).
        kind: the `hrnet-keras convert --model` kind of its checkpoints, or None.
        source: where its checkpoints are published.
        mean / std: input normalisation of RGB / 255.
    """

    name: str
    builder: object
    options: object
    kind: str
    source: str
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD

    @property
    def builder_name(self):
        """The builder's name in `BUILDERS`, as `ModelConfig.builder` spells it."""
        return next(name for name, build in BUILDERS.items() if build is self.builder)

    def keywords(self):
        """The builder keywords the family fixes: upsample, align_corners, BN momentum and
        epsilon."""
        return self.options.keywords(TRAINING_KEYWORDS)

    def model_config(self, **fields):
        """A `hrnet_keras.training.ModelConfig` of this family's builder and options;
        `fields` (width, num_classes, weights, ...) fill or override the rest.

        Example:
        >>> from hrnet_keras.models.presets import CLASSIFICATION
        >>> config = CLASSIFICATION.model_config(width=18)
        >>> config.builder, config.upsample, config.bn_momentum
        ('hrnet_classifier', 'nearest', 0.9)
        """
        # The training package builds on this one, not the other way round.
        from hrnet_keras.training.recipe import ModelConfig

        return ModelConfig(**{"builder": self.builder_name, **self.keywords(), **fields})


CLASSIFICATION = Family(
    "classification",
    hrnet_classifier,
    CLASSIFICATION_DEFAULTS,
    kind="classifier",
    source="HRNet/HRNet-Image-Classification; timm (`timm/hrnet_*` on the Hugging Face hub)",
)
SEGMENTATION = Family(
    "segmentation",
    hrnetv2,
    SEGMENTATION_DEFAULTS,
    kind="segmenter",
    source="HRNet/HRNet-Semantic-Segmentation (master and pytorch-v1.1 branches)",
)
FACE = Family(
    "face",
    hrnetv2,
    FACE_DEFAULTS,
    kind="landmarker",
    source="HRNet/HRNet-Facial-Landmark-Detection",
)
DETECTION = Family(
    "detection",
    hrnetv2p,
    DETECTION_DEFAULTS,
    kind="hrnetv2p",
    source="open-mmlab/mmdetection (configs/hrnet), backbone and HRFPN neck",
)
DETECTOR = Family(
    "detector",
    faster_rcnn,
    DETECTION_DEFAULTS,
    kind="faster_rcnn",
    source="open-mmlab/mmdetection (configs/hrnet), the whole Faster R-CNN",
)
CASCADE_DETECTOR = Family(
    "cascade detector",
    cascade_rcnn,
    DETECTION_DEFAULTS,
    kind="cascade_rcnn",
    source="open-mmlab/mmdetection (configs/hrnet), the whole Cascade R-CNN",
)
FAMILIES = (CLASSIFICATION, SEGMENTATION, FACE, DETECTION, DETECTOR, CASCADE_DETECTOR)
# mmdetection's whole Mask R-CNN: the options of its Faster R-CNN.
MASK_DETECTOR = Family(
    "mask detector",
    mask_rcnn,
    DETECTION_DEFAULTS,
    kind="mask_rcnn",
    source="open-mmlab/mmdetection (configs/hrnet), the whole Mask R-CNN",
)
# mmdetection's whole Cascade Mask R-CNN: the options of its Cascade R-CNN.
CASCADE_MASK_DETECTOR = Family(
    "cascade mask detector",
    cascade_mask_rcnn,
    DETECTION_DEFAULTS,
    kind="cascade_mask_rcnn",
    source="open-mmlab/mmdetection (configs/hrnet), the whole Cascade Mask R-CNN",
)
# The paper's detection baseline. mmdetection's ResNet + FPN train with torch's default BN
# and nearest top-down upsampling: the options of its HRNet detectors. Its checkpoints port
# through `hrnet_keras.convert.resnet`, not a `hrnet-keras convert` kind, hence outside
# `FAMILIES`.
RESNET_DETECTION = Family(
    "resnet detection",
    resnet_fpn,
    DETECTION_DEFAULTS,
    kind=None,
    source="open-mmlab/mmdetection (configs/faster_rcnn), torchvision ImageNet ResNet",
)


@dataclasses.dataclass(frozen=True)
class Preset:
    """A published model.

    Attributes:
        name: for example `"hrnet_w48_c"` or `"hrnetv2_w48_cityscapes"`.
        family: its `Family` (builder, options, normalisation, source).
        width: see `hrnet_spec`; None for a ResNet.
        num_classes: classes or landmarks of the head; None without one.
        input_size: `(height, width)` at which its authors evaluate and measure it.
        params: trainable parameters of the official code (exact), or None where the authors
            publish none for this head.
        gflops: multiply-adds / 2^30 as published (the official READMEs' and the
            classification table's convention), or None.
        gmacs: multiply-adds / 1e9 as published (the segmentation paper's Table 1), or None.
        checkpoint: the published file name, or None.
        timm_name: the same weights in timm (`timm/<name>.ms_in1k` on the Hugging Face
            hub), or None.
        note: one line for `hrnet-keras models`.
    """

    name: str
    family: Family
    width: object
    num_classes: int | None
    input_size: tuple
    params: int | None = None
    gflops: float | None = None
    gmacs: float | None = None
    checkpoint: str | None = None
    timm_name: str | None = None
    note: str = ""

    @property
    def input_shape(self):
        """`(height, width, 3)` the builders accept: `input_size` rounded up to multiples
        of 32 (LIP's 473x473 is built at 480x480)."""
        return (*(32 * math.ceil(s / 32) for s in self.input_size), 3)

    @property
    def mean(self):
        return self.family.mean

    @property
    def std(self):
        return self.family.std

    def build(self, **kwargs):
        """The Keras model: the family's builder with this preset's width, classes and the
        family's options; `kwargs` (`input_shape=`, `weights=`, `bn_momentum=`, ...)
        override them.

        Example:
        >>> from hrnet_keras.models.presets import preset
        >>> model = preset("hrnetv2_w18_small_v1_cityscapes").build(input_shape=(64, 64, 3))
        >>> tuple(model.output.shape)
        (None, 16, 16, 19)
        """
        arguments = dict(self.family.keywords())
        if self.width is not None:  # a ResNet has a depth, no HRNet width
            arguments["width"] = self.width
        if self.num_classes is not None:
            arguments["num_classes"] = self.num_classes
        return self.family.builder(**{**arguments, **kwargs})


def _label(width):
    return str(width).replace("-", "_")


def _classifier(width, params, gflops, checkpoint):
    timm_name = {"18-small-v1": "hrnet_w18_small", "18-small-v2": "hrnet_w18_small_v2"}
    return Preset(
        f"hrnet_w{_label(width)}_c",
        CLASSIFICATION,
        width,
        1000,
        (224, 224),
        params,
        gflops=gflops,
        checkpoint=checkpoint,
        timm_name=timm_name.get(width, f"hrnet_w{width}"),
        note="ImageNet classifier",
    )


def _cityscapes(width, params, gflops=None, gmacs=None, checkpoint=None):
    return Preset(
        f"hrnetv2_w{_label(width)}_cityscapes",
        SEGMENTATION,
        width,
        19,
        (1024, 2048),
        params,
        gflops=gflops,
        gmacs=gmacs,
        checkpoint=checkpoint,
        note="Cityscapes segmenter",
    )


def _face(dataset, landmarks, params, note):
    # The paper's face tables give HRNetV2-W18 4.3 GFLOPs at 256x256 for every dataset.
    return Preset(
        f"hrnetv2_w18_{dataset.lower()}",
        FACE,
        18,
        landmarks,
        (256, 256),
        params,
        gflops=4.3,
        checkpoint=f"HR18-{dataset}.pth",
        note=note,
    )


def _detector(width, checkpoint):
    return Preset(
        f"hrnetv2p_w{width}",
        DETECTION,
        width,
        None,
        (800, 1216),
        checkpoint=checkpoint,
        note="backbone + neck; the published sizes include the R-CNN heads",
    )


def _faster_rcnn(width, schedule, box_ap, stamp):
    name = f"faster_rcnn_hrnetv2p_w{width}_{schedule}_coco"
    return Preset(
        name,
        DETECTOR,
        width,
        80,
        (800, 1216),
        checkpoint=f"{name}_{stamp}.pth",
        note=f"COCO Faster R-CNN, {schedule} schedule, box AP {box_ap}",
    )


def _mask_rcnn(width, box_ap, mask_ap):
    return Preset(
        f"mask_rcnn_hrnetv2p_w{width}_1x_coco",
        MASK_DETECTOR,
        width,
        80,
        (800, 1216),
        note=f"COCO Mask R-CNN, 1x schedule, box AP {box_ap}, mask AP {mask_ap}",
    )


def _cascade_rcnn(width, box_ap, stamp):
    name = f"cascade_rcnn_hrnetv2p_w{width}_20e_coco"
    return Preset(
        name,
        CASCADE_DETECTOR,
        width,
        80,
        (800, 1216),
        checkpoint=f"{name}_{stamp}.pth",
        note=f"COCO Cascade R-CNN, 20 epochs, box AP {box_ap}",
    )


def _cascade_mask_rcnn(width, box_ap, mask_ap, stamp):
    # mmdetection's configs/hrnet/README.md (v2.x), the Cascade Mask R-CNN table.
    name = f"cascade_mask_rcnn_hrnetv2p_w{width}_20e_coco"
    return Preset(
        name,
        CASCADE_MASK_DETECTOR,
        width,
        80,
        (800, 1216),
        checkpoint=f"{name}_{stamp}.pth",
        note=f"COCO Cascade Mask R-CNN, 20 epochs, box AP {box_ap}, mask AP {mask_ap}",
    )


_SMALL_CS = "hrnet_w18_small_v{}_cityscapes_cls19_1024x2048_trainset.pth"
_MMDET = "faster_rcnn_hrnetv2p_w{}_1x_coco_{}.pth"

PRESETS = (
    _classifier("18-small-v1", 13_187_464, 1.49, "hrnet_w18_small_model_v1.pth"),
    _classifier("18-small-v2", 15_597_464, 2.42, "hrnet_w18_small_model_v2.pth"),
    *(
        _classifier(w, p, g, f"hrnetv2_w{w}_imagenet_pretrained.pth")
        for w, p, g in (
            (18, 21_299_004, 3.99),
            (30, 37_712_220, 7.55),
            (32, 41_232_680, 8.31),
            (40, 57_557_160, 11.8),
            (44, 67_064_984, 13.9),
            (48, 77_469_864, 16.1),
            (64, 128_059_944, 26.9),
        )
    ),
    _cityscapes("18-small-v1", 1_540_819, gflops=31.1, checkpoint=_SMALL_CS.format(1)),
    _cityscapes("18-small-v2", 3_939_579, gflops=71.6, checkpoint=_SMALL_CS.format(2)),
    # Table 1 of the paper prints W40 in 2^30 units (498.7 measured) but W48 in 1e9 units.
    _cityscapes(40, 45_894_435, gflops=493.2),
    _cityscapes(
        48,
        65_859_379,
        gflops=696.2,
        gmacs=747.3,
        checkpoint="hrnet_w48_cityscapes_cls19_1024x2048_trainset.pth",
    ),
    Preset(
        "hrnetv2_w48_pascal_context_59",
        SEGMENTATION,
        48,
        59,
        (480, 480),
        checkpoint="hrnet_w48_pascal_context_cls59_480x480.pth",
        note="PASCAL-Context segmenter, 59 classes",
    ),
    Preset(
        "hrnetv2_w48_pascal_context_60",
        SEGMENTATION,
        48,
        60,
        (480, 480),
        checkpoint="hrnet_w48_pascal_context_cls60_480x480.pth",
        note="PASCAL-Context segmenter, 60 classes",
    ),
    Preset(
        "hrnetv2_w48_lip",
        SEGMENTATION,
        48,
        20,
        (473, 473),
        checkpoint="hrnet_w48_lip_cls20_473x473.pth",
        note="LIP human parsing (473x473, counted at 480x480)",
    ),
    _face("WFLW", 98, 9_662_528, "WFLW landmarks (the paper rounds the parameters to 9.3M)"),
    _face("300W", 68, 9_654_398, "300W landmarks"),
    _face("COFW", 29, 9_643_829, "COFW landmarks"),
    _face("AFLW", 19, 9_641_119, "AFLW landmarks"),
    _detector(18, _MMDET.format(18, "20200130-56651a6d")),
    _detector(32, _MMDET.format(32, "20200130-6e286425")),
    _detector(40, "faster_rcnn_hrnetv2_w40_fpn_1x_20190522-30502318.pth"),
    _detector(48, None),
    _faster_rcnn(18, "1x", 36.9, "20200130-56651a6d"),
    _faster_rcnn(18, "2x", 38.9, "20200702_085731-a4ec0611"),
    _faster_rcnn(32, "1x", 40.2, "20200130-6e286425"),
    _faster_rcnn(32, "2x", 41.4, "20200529_015927-976a9c15"),
    _faster_rcnn(40, "1x", 41.2, "20200210-95c1f5ce"),
    _faster_rcnn(40, "2x", 42.1, "20200512_161033-0f236ef4"),
    _mask_rcnn(18, 37.7, 34.2),
    _mask_rcnn(32, 41.2, 37.1),
    _mask_rcnn(40, 42.1, 37.5),
    _cascade_rcnn(18, 41.2, "20200210-434be9d7"),
    _cascade_rcnn(32, 43.3, "20200208-928455a4"),
    _cascade_rcnn(40, 43.8, "20200512_161112-75e47b04"),
    _cascade_mask_rcnn(18, 41.6, 36.4, "20200210-b543cd2b"),
    _cascade_mask_rcnn(32, 44.3, 38.6, "20200512_154043-39d9cf7b"),
    _cascade_mask_rcnn(40, 45.1, 39.3, "20200527_204922-969c4610"),
    Preset(
        "resnet50_fpn",
        RESNET_DETECTION,
        None,
        None,
        (800, 1216),
        note="ResNet-50 + FPN (stem, stage 1 frozen); the paper's 39.8M includes the R-CNN heads",
    ),
)


def preset(name):
    """The `Preset` called `name` (see `PRESETS`).

    Example:
    >>> from hrnet_keras.models.presets import preset
    >>> preset("hrnet_w48_c").params
    77469864
    """
    for entry in PRESETS:
        if entry.name == name:
            return entry
    raise ValueError(f"`name` must be one of {[p.name for p in PRESETS]}. Received: name={name!r}")
