"""The published HRNet variants, with the sizes their authors report."""

import dataclasses
import functools

from hrnet_keras.models.classifier import hrnet_classifier
from hrnet_keras.models.hrnetv2 import hrnetv2
from hrnet_keras.models.hrnetv2p import hrnetv2p


@dataclasses.dataclass(frozen=True)
class Variant:
    """A published model: how to build it, at which input size it is measured, and what its
    authors report: parameters (exact, from the official code), `gflops` (multiply-adds /
    2^30, the convention of the official READMEs and the classification table) and `gmacs`
    (multiply-adds / 1e9, the convention of the segmentation paper's Table 1).
    """

    name: str
    build: object
    input_size: tuple
    params: int
    gflops: float = None
    gmacs: float = None
    note: str = ""


def _label(width):
    return str(width).replace("-", "_")


def _classifier(width, params, gflops):
    return Variant(
        f"hrnet_w{_label(width)}_c",
        functools.partial(hrnet_classifier, width=width, num_classes=1000),
        (224, 224),
        params,
        gflops=gflops,
        note="ImageNet classifier",
    )


def _segmenter(width, params, gflops=None, gmacs=None):
    return Variant(
        f"hrnetv2_w{_label(width)}_cityscapes",
        functools.partial(hrnetv2, width=width, num_classes=19),
        (1024, 2048),
        params,
        gflops=gflops,
        gmacs=gmacs,
        note="Cityscapes segmenter",
    )


def _detector(width):
    return Variant(
        f"hrnetv2p_w{width}",
        functools.partial(hrnetv2p, width=width),
        (800, 1216),
        None,
        note="backbone + neck; the published sizes include the R-CNN heads",
    )


VARIANTS = (
    _classifier("18-small-v1", 13_187_464, 1.49),
    _classifier("18-small-v2", 15_597_464, 2.42),
    _classifier(18, 21_299_004, 3.99),
    _classifier(30, 37_712_220, 7.55),
    _classifier(32, 41_232_680, 8.31),
    _classifier(40, 57_557_160, 11.8),
    _classifier(44, 67_064_984, 13.9),
    _classifier(48, 77_469_864, 16.1),
    _classifier(64, 128_059_944, 26.9),
    _segmenter("18-small-v1", 1_540_819, gflops=31.1),
    _segmenter("18-small-v2", 3_939_579, gflops=71.6),
    # Table 1 of the paper prints W40 in 2^30 units (498.7 measured) but W48 in 1e9 units.
    _segmenter(40, 45_894_435, gflops=493.2),
    _segmenter(48, 65_859_379, gflops=696.2, gmacs=747.3),
    Variant(
        "hrnetv2_w18_wflw",
        functools.partial(hrnetv2, width=18, num_classes=98),
        (256, 256),
        9_662_528,
        gflops=4.3,
        note="WFLW landmarks (the paper rounds the parameters to 9.3M)",
    ),
    *(_detector(width) for width in (18, 32, 40, 48)),
)
