"""Porting torchvision's ResNet and mmdetection's ResNet + FPN tensors to the Keras layers of
`ResNetBackbone` and `fpn`: a table of names, checked both ways.

Two key layouts are read:

- torchvision's ImageNet `resnet50` (`conv1.weight`, `layer1.0.downsample.0.weight`, ...);
  its classifier (`fc.*`) is not part of a backbone and is ignored;
- mmdetection v2's detectors: the same names under `backbone.`, and the FPN under `neck.`
  (`neck.lateral_convs.{i}.conv.weight`, `neck.fpn_convs.{i}.conv.bias`). The heads'
  tensors (`rpn_head.`, `roi_head.`) belong to the heads' converter and are left out.

Batch norms' `num_batches_tracked` counters carry no weight and are ignored.
"""

import os
import re

import keras
import numpy as np

from hrnet_keras.convert.checkpoint_io import read_checkpoint
from hrnet_keras.convert.porting import PortReport
from hrnet_keras.models.resnet import RESNET_BLOCKS

HEAD_PREFIXES = ("rpn_head.", "roi_head.")
_CONV_PARAMS = {"weight": "kernel", "bias": "bias"}
_BN_PARAMS = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}
_BACKBONE_KEY = re.compile(
    r"^(?P<module>conv1|bn1|layer[1-4]\.\d+\.(?:conv[1-3]|bn[1-3]|downsample\.[01]))\.(?P<param>\w+)$"
)
_NECK_KEY = re.compile(r"^(?P<module>(?:lateral|fpn)_convs\.\d+)\.conv\.(?P<param>weight|bias)$")
_BLOCK = re.compile(r"^layer(\d+)\.(\d+)\.")
_KERAS_BLOCK = re.compile(r"^layer(\d+)_(\d+)_")
# Keras layers that the two tables fill.
BACKBONE_LAYER = re.compile(r"^(conv1|bn1|layer\d+_\d+_(conv\d|bn\d|downsample_[01]))$")
NECK_LAYER = re.compile(r"^(lateral|fpn)_convs_\d+$")
_LISTED = 12


def _listing(items):
    items = sorted(items)
    more = f", ... and {len(items) - _LISTED} more" if len(items) > _LISTED else ""
    return ", ".join(items[:_LISTED]) + more


def _is_batch_norm(module):
    return module == "bn1" or ".bn" in module or module.endswith("downsample.1")


def _keras_weight(module, param, value, key):
    """The Keras path and array of one PyTorch parameter."""
    table = _BN_PARAMS if _is_batch_norm(module) else _CONV_PARAMS
    if param not in table:
        raise ValueError(
            f"{key!r} is not a parameter of a {'batch norm' if table is _BN_PARAMS else 'conv'}"
            f" (expected one of {sorted(table)}). Received: key={key!r}"
        )
    array = np.asarray(value, dtype=np.float32)
    if table is _CONV_PARAMS and param == "weight":
        if array.ndim != 4:
            raise ValueError(
                f"{key!r} must be a 4D (out, in, kh, kw) conv weight. Received: shape={array.shape}"
            )
        array = array.transpose(2, 3, 1, 0)
    return f"{module.replace('.', '_')}/{table[param]}", array


def _as_numpy(value):
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        value = value.float() if value.is_floating_point() else value
        return value.numpy()
    return np.asarray(value)


def _depth(names, pattern):
    """The depth whose blocks per stage are those of `names` (`pattern`: stage, block)."""
    blocks = {}
    for name in names:
        match = pattern.match(name)
        if match:
            stage, block = int(match.group(1)), int(match.group(2))
            blocks[stage] = max(blocks.get(stage, 0), block + 1)
    counts = tuple(blocks.get(s, 0) for s in (1, 2, 3, 4))
    return next((d for d, b in RESNET_BLOCKS.items() if b == counts), None)


def checkpoint_depth(state_dict):
    """The ResNet depth (50, 101, 152) of the backbone tensors of a state dict, or None.

    Example:
    >>> blocks = {1: 3, 2: 4, 3: 23, 4: 3}
    >>> keys = [f"layer{s}.{b}.conv1.weight" for s, n in blocks.items() for b in range(n)]
    >>> checkpoint_depth(dict.fromkeys(keys))
    101
    """
    return _depth((k.removeprefix("backbone.") for k in state_dict), _BLOCK)


def resnet_fpn_weights(state_dict):
    """`{Keras weight path: float32 array}` of every ResNet and FPN tensor of a state dict.

    The paths are the Keras 3 `variable.path` of the layers of `ResNetBackbone` and `fpn`
    (`"layer1_0_downsample_0/kernel"`, `"bn1/moving_variance"`, `"lateral_convs_0/bias"`);
    conv kernels are transposed to Keras' `(kh, kw, in, out)`. Every tensor is used except
    the ignored ones (`fc.*` of an ImageNet checkpoint, `num_batches_tracked`) and, in a
    detector checkpoint, the heads' (`rpn_head.`, `roi_head.`); any other key is an error.

    Args:
        state_dict: `{name: tensor or array}` in torchvision's or mmdetection's layout.

    Returns:
        A dict from Keras weight paths to arrays.

    Example:
    >>> import numpy as np
    >>> state = {"backbone.bn1.running_var": np.ones(64),
    ...          "neck.lateral_convs.0.conv.weight": np.zeros((256, 256, 1, 1))}
    >>> {k: v.shape for k, v in resnet_fpn_weights(state).items()}
    {'bn1/moving_variance': (64,), 'lateral_convs_0/kernel': (1, 1, 256, 256)}
    """
    detector = any(k.startswith(("backbone.", "neck.")) for k in state_dict)
    weights, unknown = {}, []
    for key, value in state_dict.items():
        if key.endswith(".num_batches_tracked") or (not detector and key.startswith("fc.")):
            continue
        if detector and key.startswith(HEAD_PREFIXES):
            continue
        if detector and key.startswith("neck."):
            match = _NECK_KEY.match(key.removeprefix("neck."))
        elif detector and not key.startswith("backbone."):
            match = None
        else:
            match = _BACKBONE_KEY.match(key.removeprefix("backbone."))
        if match is None:
            unknown.append(key)
            continue
        path, array = _keras_weight(match["module"], match["param"], _as_numpy(value), key)
        weights[path] = array
    if unknown:
        layout = "mmdetection (backbone./neck.)" if detector else "torchvision"
        raise ValueError(
            f"Keys that are not a ResNet or FPN tensor of the {layout} layout "
            f"({len(unknown)}): {_listing(unknown)}. Received: keys={_listing(unknown)}"
        )
    return weights


def _variables(model):
    """`{layer/weight: variable}` of every layer of `model`, nested models included."""
    found = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.update(_variables(layer))
        else:
            for variable in layer.weights:
                found[f"{layer.name}/{variable.name}"] = variable
    return found


def load_resnet_fpn_weights(model, checkpoint):
    """Fills the ResNet and FPN layers of `model` from a PyTorch checkpoint, strictly.

    Every tensor of the checkpoint lands on a Keras weight of the same shape, and every
    weight of each part the checkpoint holds (the backbone, the FPN) is filled: an ImageNet
    checkpoint fills the whole backbone and leaves the FPN as initialised, an mmdetection
    one fills both. A detector checkpoint's heads are not converted here (an error lists
    them).

    Args:
        model: a model with `ResNetBackbone` layers (`ResNetBackbone`, `resnet_fpn`, or a
            detector built on it).
        checkpoint: a checkpoint file (read with `torch.load(..., weights_only=True)`, or
            `.safetensors`), or a state dict.

    Returns:
        A `hrnet_keras.convert.PortReport`: `filled` variables, `ignored` keys and the
        ResNet / FPN layers `skipped` (left as initialised).
    """
    if isinstance(checkpoint, (str, os.PathLike)):
        path = os.fspath(checkpoint)
        state = read_checkpoint(path)
    else:
        path, state = "<state dict>", dict(checkpoint)
    heads = sorted(k for k in state if k.startswith(HEAD_PREFIXES))
    if heads:
        raise ValueError(
            f"{path!r} holds detector heads ({len(heads)} tensors: {_listing(heads)}), which "
            f"this ResNet / FPN port does not convert. Received: path={path!r}"
        )
    variables = _variables(model)
    model_depth = _depth(variables, _KERAS_BLOCK)
    depth = checkpoint_depth(state)
    if depth and model_depth and depth != model_depth:
        raise ValueError(
            f"{path!r} holds a ResNet-{depth}, but model {model.name!r} is a ResNet-"
            f"{model_depth}. Build it with depth={depth}. Received: path={path!r}"
        )
    weights = resnet_fpn_weights(state)
    report = PortReport(
        ignored=sorted(k for k in state if k.endswith(".num_batches_tracked") or k[:3] == "fc.")
    )
    problems = []
    for key, array in weights.items():
        if key not in variables:
            problems.append(f"{key} (no such Keras weight)")
        elif tuple(variables[key].shape) != array.shape:
            problems.append(f"{key} {array.shape} for {tuple(variables[key].shape)}")
    parts = [
        pattern
        for pattern in (BACKBONE_LAYER, NECK_LAYER)
        if any(pattern.match(k.split("/")[0]) for k in weights)
    ]
    for key in variables:
        layer = key.split("/")[0]
        if key in weights:
            continue
        if any(p.match(layer) for p in parts):
            problems.append(f"{key} (not in the checkpoint)")
        elif BACKBONE_LAYER.match(layer) or NECK_LAYER.match(layer):
            report.skipped.append(layer)
    if problems:
        raise ValueError(
            f"{path!r} does not fit model {model.name!r} (strict loading), {len(problems)} "
            f"problems: {_listing(problems)}. Received: path={path!r}"
        )
    for key, array in weights.items():
        variables[key].assign(array)
    report.filled = len(weights)
    report.skipped = sorted(set(report.skipped))
    return report
