"""Folding batch normalisation into the preceding convolution, for inference."""

import json

import keras
import numpy as np


def _history_refs(node, found):
    """Collects every `keras_history` list inside a functional config fragment."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "keras_history":
                found.append(value)
            else:
                _history_refs(value, found)
    elif isinstance(node, list):
        if len(node) == 3 and isinstance(node[0], str) and isinstance(node[1], int):
            found.append(node)  # an output_layers entry: [name, node_index, tensor_index]
        else:
            for value in node:
                _history_refs(value, found)
    return found


def _foldable_pairs(config):
    """(conv, bn) layer names where the BN's only input is a Conv2D used by nothing else."""
    layers = {layer["name"]: layer for layer in config["layers"]}
    uses = {}
    for layer in config["layers"]:
        for ref in _history_refs(layer["inbound_nodes"], []):
            uses[ref[0]] = uses.get(ref[0], 0) + 1
    for ref in _history_refs(config["output_layers"], []):
        uses[ref[0]] = uses.get(ref[0], 0) + 1

    pairs = []
    for layer in config["layers"]:
        if layer["class_name"] != "BatchNormalization" or len(layer["inbound_nodes"]) != 1:
            continue
        refs = _history_refs(layer["inbound_nodes"], [])
        source = layers.get(refs[0][0]) if len(refs) == 1 else None
        if (
            source is not None
            and source["class_name"] == "Conv2D"
            and uses.get(source["name"]) == 1
            and source["config"]["activation"] == "linear"
            and layer["config"]["axis"] in (-1, 3, [3], [-1])
        ):
            pairs.append((source["name"], layer["name"]))
    return pairs


def is_graph_model(model):
    """Whether `model` is a graph of layers (functional or built Sequential) that can be folded.

    Example:
    >>> import keras
    >>> is_graph_model(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))
    True
    >>> is_graph_model(keras.Sequential([keras.layers.Dense(2)]))  # never built
    False
    """
    return isinstance(model, keras.Model) and bool(getattr(model, "inputs", None))


def fold_batch_norm(model):
    """Returns an equivalent inference model whose Conv2D+BatchNormalization pairs are merged.

    Each folded convolution gets `kernel * gamma / sqrt(var + eps)` and a bias
    `(bias - mean) * gamma / sqrt(var + eps) + beta`. Then TensorFlow fuses convolution, bias
    and ReLU into one kernel, as the TFLite converter and `torch.jit.freeze` also do. The
    result is for inference only: it has no batch statistics to train.

    Args:
        model: a functional or built Sequential `keras.Model` (every model of
            `hrnet_keras.models`).

    Returns:
        A new functional `keras.Model` with the same inputs and outputs.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import fold_batch_norm, hrnetv2
    >>> model = hrnetv2(width=4, num_classes=3, input_shape=(64, 64, 3))
    >>> folded = fold_batch_norm(model)
    >>> x = np.random.default_rng(0).random((1, 64, 64, 3), dtype="float32")
    >>> a, b = np.asarray(model(x)), np.asarray(folded(x))
    >>> bool(np.abs(a - b).max() <= 1e-5 * np.abs(a).max())
    True
    >>> len(folded.layers) < len(model.layers)
    True
    """
    if not is_graph_model(model):
        raise ValueError(
            f"`model` must be a functional or Sequential keras.Model. Received: model={model!r}"
        )
    if isinstance(model, keras.Sequential):
        model = keras.Model(model.inputs[0], model.outputs[0], name=model.name)
    elif type(model) is not keras.Model and type(model).__name__ != "Functional":
        # A functional subclass (HRNetBackbone) serialises its arguments, not its graph.
        model = keras.Model(model.input, model.output, name=model.name)
    # A JSON round trip turns the config's tuples into lists that can be rewired in place.
    config = json.loads(json.dumps(model.get_config()))
    pairs = _foldable_pairs(config)
    bn_to_conv = {bn: conv for conv, bn in pairs}
    conv_names = set(bn_to_conv.values())

    for ref in _history_refs(config["layers"], []) + _history_refs(config["output_layers"], []):
        if ref[0] in bn_to_conv:
            ref[0] = bn_to_conv[ref[0]]
    config["layers"] = [layer for layer in config["layers"] if layer["name"] not in bn_to_conv]
    for layer in config["layers"]:
        if layer["name"] in conv_names:
            layer["config"]["use_bias"] = True

    folded = keras.Model.from_config(config)
    folded_names = {conv: bn for conv, bn in pairs}
    for layer in folded.layers:
        source = model.get_layer(layer.name)
        if layer.name not in folded_names:
            layer.set_weights(source.get_weights())
            continue
        bn = model.get_layer(folded_names[layer.name])
        kernel, *bias = source.get_weights()
        gamma = bn.gamma.numpy() if bn.scale else 1.0
        beta = bn.beta.numpy() if bn.center else 0.0
        scale = gamma / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
        bias = bias[0] if bias else np.zeros(kernel.shape[-1], kernel.dtype)
        layer.set_weights(
            [
                (kernel * scale).astype(kernel.dtype),
                ((bias - bn.moving_mean.numpy()) * scale + beta).astype(kernel.dtype),
            ]
        )
    return folded
