"""The table from Keras layer names to PyTorch module names, and how each weight is laid out."""

import re

import numpy as np

# (Keras layer name pattern, PyTorch module name template). Groups are substituted in order.
_RULES = (
    (r"stem_conv(\d)", "conv{0}"),
    (r"stem_bn(\d)", "bn{0}"),
    (r"stage1_unit(\d+)_(conv|bn)(\d)", "layer1.{0}.{1}{2}"),
    (r"stage1_unit(\d+)_downsample_conv", "layer1.{0}.downsample.0"),
    (r"stage1_unit(\d+)_downsample_bn", "layer1.{0}.downsample.1"),
    (
        r"stage(\d)_module(\d+)_branch(\d+)_unit(\d+)_(conv|bn)(\d)",
        "stage{0}.{1}.branches.{2}.{3}.{4}{5}",
    ),
    (r"stage(\d)_module(\d+)_fuse_(\d+)_to_(\d+)_conv", "stage{0}.{1}.fuse_layers.{3}.{2}.0"),
    (r"stage(\d)_module(\d+)_fuse_(\d+)_to_(\d+)_bn", "stage{0}.{1}.fuse_layers.{3}.{2}.1"),
    (
        r"stage(\d)_module(\d+)_fuse_(\d+)_to_(\d+)_conv(\d+)",
        "stage{0}.{1}.fuse_layers.{3}.{2}.{4}.0",
    ),
    (
        r"stage(\d)_module(\d+)_fuse_(\d+)_to_(\d+)_bn(\d+)",
        "stage{0}.{1}.fuse_layers.{3}.{2}.{4}.1",
    ),
    (r"head_conv1", "last_layer.0"),
    (r"head_bn1", "last_layer.1"),
    (r"head_logits", "last_layer.3"),
    (r"head_incre(\d)_(conv|bn)(\d)", "incre_modules.{0}.0.{1}{2}"),
    (r"head_incre(\d)_downsample_conv", "incre_modules.{0}.0.downsample.0"),
    (r"head_incre(\d)_downsample_bn", "incre_modules.{0}.0.downsample.1"),
    (r"head_downsamp(\d)_conv", "downsamp_modules.{0}.0"),
    (r"head_downsamp(\d)_bn", "downsamp_modules.{0}.1"),
    (r"head_final_conv", "final_layer.0"),
    (r"head_final_bn", "final_layer.1"),
    (r"predictions", "classifier"),
    (r"v2p_reduction_conv", "neck.reduction"),
    (r"v2p_fpn(\d+)_conv", "neck.fpn.{0}"),
)
_COMPILED = tuple((re.compile(f"^{pattern}$"), template) for pattern, template in _RULES)
_TRANSITION = re.compile(r"^transition(\d)_branch(\d+)_(conv|bn)(\d*)$")

# The classification layers that `drop_head` leaves randomly initialised.
FINAL_LAYERS = ("predictions", "head_logits")

# PyTorch parameter name of each Keras variable name.
_PARAMS = {
    "kernel": "weight",
    "bias": "bias",
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}


def torch_module_name(layer_name):
    """The PyTorch module (canonical layout) that holds a Keras layer's weights, or None.

    Example:
    >>> from hrnet_keras.convert import torch_module_name
    >>> torch_module_name("stage3_module2_fuse_2_to_0_conv")
    'stage3.2.fuse_layers.0.2.0'
    >>> torch_module_name("stage3_module2_fuse_0_to_2_bn1")
    'stage3.2.fuse_layers.2.0.1.1'
    >>> torch_module_name("transition1_branch0_conv"), torch_module_name("transition1_branch1_bn")
    ('transition1.0.0', 'transition1.1.0.1')
    """
    match = _TRANSITION.match(layer_name)
    if match:
        stage, branch, kind, step = match.groups()
        index = "0" if kind == "conv" else "1"
        # Transition t leaves t branches and opens branch t: an existing branch is a
        # Sequential(conv, bn, relu), a new one a Sequential of such Sequentials.
        if int(branch) < int(stage):
            return f"transition{stage}.{branch}.{index}"
        return f"transition{stage}.{branch}.{step or 0}.{index}"
    for pattern, template in _COMPILED:
        match = pattern.match(layer_name)
        if match:
            return template.format(*match.groups())
    return None


def torch_param_name(variable_name):
    """PyTorch parameter name (`weight`, `running_var`, ...) of a Keras variable name."""
    return _PARAMS.get(variable_name)


def to_keras_layout(array, variable_name, layer_kind):
    """Transposes a PyTorch array to the Keras layout of the variable it fills.

    Conv kernels (O, I, kh, kw) become (kh, kw, I, O); dense weights (O, I) become (I, O).
    """
    if variable_name == "kernel" and layer_kind == "Conv2D" and array.ndim == 4:
        return np.transpose(array, (2, 3, 1, 0))
    if variable_name == "kernel" and layer_kind == "Dense" and array.ndim == 2:
        return array.T
    return array
