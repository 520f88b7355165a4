"""Porting the published PyTorch HRNet checkpoints to Keras, exactly.

`load_torch_weights(model, path)` fills a model built by `hrnet_keras.models` (the builders
call it for `weights="x.pth"`); `convert_checkpoint(path, "out.keras")` infers the model
from the checkpoint, builds it, fills it and writes a `.keras` file. Both are strict: every
Keras weight is filled, every tensor used, every shape equal, or an error lists the
differences. The command line is `hrnet-keras convert`. See `docs/checkpoints.md`.
"""

from hrnet_keras.convert.checkpoint_io import read_checkpoint, unnest_state_dict
from hrnet_keras.convert.conversion import KIND_DEFAULTS, build_model, convert_checkpoint
from hrnet_keras.convert.detect import KINDS, CheckpointInfo, detect, detect_width
from hrnet_keras.convert.key_layouts import CanonicalCheckpoint, canonicalize
from hrnet_keras.convert.name_map import torch_module_name
from hrnet_keras.convert.porting import PortReport, fill_model, load_torch_weights, model_width

__all__ = [
    "KINDS",
    "KIND_DEFAULTS",
    "CanonicalCheckpoint",
    "CheckpointInfo",
    "PortReport",
    "build_model",
    "canonicalize",
    "convert_checkpoint",
    "detect",
    "detect_width",
    "fill_model",
    "load_torch_weights",
    "model_width",
    "read_checkpoint",
    "torch_module_name",
    "unnest_state_dict",
]
