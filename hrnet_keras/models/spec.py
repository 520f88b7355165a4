"""The architecture of every HRNet width, derived from the width alone."""

import dataclasses

SMALL_VARIANTS = ("18-small-v1", "18-small-v2")
PUBLISHED_WIDTHS = (18, 30, 32, 40, 44, 48, 64)


@dataclasses.dataclass(frozen=True)
class HRNetSpec:
    """What differs between HRNet variants.

    Attributes:
        name: short name, for example `"w48"` or `"w18_small_v2"`.
        widths: channels of the four branches (C, 2C, 4C, 8C).
        stage1_units: Bottleneck units in stage 1.
        stage1_planes: inner width of those units (output is 4x).
        modules: multi-resolution modules in stages 2, 3 and 4.
        units: BasicBlock units per branch in every module of stages 2-4.
    """

    name: str
    widths: tuple
    stage1_units: int = 4
    stage1_planes: int = 64
    modules: tuple = (1, 4, 3)
    units: int = 4

    @property
    def representation_channels(self):
        """Channels of the HRNetV2 representation (15C)."""
        return sum(self.widths)


def hrnet_spec(width):
    """Returns the `HRNetSpec` of a width.

    Args:
        width: a positive int C (branches C, 2C, 4C, 8C; the published ones are 18, 30, 32,
            40, 44, 48 and 64), or `"18-small-v1"` / `"18-small-v2"`.

    Example:
    >>> from hrnet_keras.models import hrnet_spec
    >>> hrnet_spec(48).widths
    (48, 96, 192, 384)
    >>> hrnet_spec("18-small-v2").modules
    (1, 3, 2)
    """
    if width == "18-small-v1":
        return HRNetSpec(
            "w18_small_v1",
            (16, 32, 64, 128),
            stage1_units=1,
            stage1_planes=32,
            modules=(1, 1, 1),
            units=2,
        )
    if width == "18-small-v2":
        return HRNetSpec(
            "w18_small_v2", (18, 36, 72, 144), stage1_units=2, modules=(1, 3, 2), units=2
        )
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(
            f"`width` must be a positive int (published: {PUBLISHED_WIDTHS}) or one of "
            f"{SMALL_VARIANTS}. Received: width={width!r}"
        )
    return HRNetSpec(f"w{width}", (width, 2 * width, 4 * width, 8 * width))
