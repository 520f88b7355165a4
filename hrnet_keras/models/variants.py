"""The published variants: the former name of `hrnet_keras.models.presets`."""

from hrnet_keras.models.presets import PRESETS as VARIANTS
from hrnet_keras.models.presets import Preset as Variant

__all__ = ["VARIANTS", "Variant"]
