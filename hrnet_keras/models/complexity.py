"""Multiply-adds of a model, read from its TensorFlow graph."""

import numpy as np
import tensorflow as tf

# The HRNet papers' tables print multiply-adds / 2**30 under the heading "GFLOPs".
PUBLISHED_GFLOPS_DIVISOR = 2**30


def _static_shape(tensor):
    shape = tensor.shape.as_list()
    if any(d is None for d in shape[1:]):
        raise ValueError(f"Cannot count multiply-adds of a tensor with unknown shape {shape}.")
    return shape


def op_multiply_adds(op):
    """Multiply-adds of one graph op (convolutions and matrix products; 0 for others)."""
    if op.type in ("Conv2D", "DepthwiseConv2dNative"):
        out = _static_shape(op.outputs[0])
        kh, kw, cin, cout = _static_shape(op.inputs[1])
        per_output = kh * kw * (cin if op.type == "Conv2D" else 1)
        channels = out[3] if op.type == "Conv2D" else cin * cout
        return out[0] * out[1] * out[2] * channels * per_output
    if op.type in ("MatMul", "BatchMatMulV2"):
        a = _static_shape(op.inputs[0])
        out = _static_shape(op.outputs[0])
        transpose_a = op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x")
        inner = a[-2] if transpose_a else a[-1]
        return int(np.prod(out)) * inner
    return 0


def graph_ops(graph):
    """Every op of `graph` and of the functions it calls (while/cond bodies, nested calls)."""
    graphs, seen = [graph], set()
    while graphs:
        g = graphs.pop()
        for op in g.get_operations():
            yield op
            for attr in ("f", "then_branch", "else_branch", "body", "cond"):
                try:
                    name = op.get_attr(attr).name
                except (ValueError, AttributeError):
                    continue
                if name not in seen and name in g._functions:
                    seen.add(name)
                    graphs.append(g._functions[name].graph)


def multiply_adds(model, input_shape, batch_size=1):
    """Counts the multiply-adds of convolutions and matrix products in `model`'s graph.

    The model is traced for an input of `input_shape`, and every Conv2D, depthwise
    convolution and MatMul of the traced TensorFlow graph is counted from its static shapes
    (nested `tf.function`s are followed).

    Args:
        model: a Keras model with one image input.
        input_shape: `(height, width, channels)` to count at.
        batch_size: batch size of the trace (the count is proportional to it).

    Returns:
        The number of multiply-adds, an int.

    Example:
    >>> import keras
    >>> inputs = keras.Input((8, 8, 3))
    >>> model = keras.Model(inputs, keras.layers.Conv2D(4, 3, padding="same")(inputs))
    >>> multiply_adds(model, (8, 8, 3)) == 8 * 8 * 4 * 3 * 3 * 3
    True
    """
    spec = tf.TensorSpec((batch_size, *input_shape), tf.float32)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    return sum(op_multiply_adds(op) for op in graph_ops(graph))
