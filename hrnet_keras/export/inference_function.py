"""A Keras model's forward pass as one frozen TensorFlow graph, for fast inference."""

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import (
    convert_variables_to_constants_v2,
)

from hrnet_keras.models.fold_batch_norm import fold_batch_norm, is_graph_model


def _check_shape(input_shape, model):
    if input_shape is None:
        return tuple(model.input_shape[1:])
    shape = tuple(input_shape)
    model_shape = tuple(model.input_shape[1:])
    if len(shape) != len(model_shape) or not all(
        (d is None or (isinstance(d, int) and d > 0)) and m in (None, d)
        for d, m in zip(shape, model_shape)
    ):
        raise ValueError(
            f"`input_shape` must fit the model's input shape {model_shape} (without the batch "
            f"size), with positive ints where it has None. Received: input_shape={input_shape!r}"
        )
    return shape


def inference_function(model, *, input_shape=None, batch_size=None, fold_bn=True):
    """`model`'s inference as one TensorFlow graph whose weights are constants.

    A `tf.function` of a Keras model reads every weight from a variable and reshapes each
    bias on every call: about 1,300 small ops for HRNetV2-W18, all overhead at batch 1.
    With the weights frozen into constants Grappler folds them away, and with batch
    normalisation folded into the convolutions (`fold_batch_norm`) each unit is one
    convolution with bias. This is the form to time and to serve in-process; it cannot be
    trained.

    Args:
        model: a single-input functional or Sequential `keras.Model`.
        input_shape: the input shape without the batch size, to fix the dimensions the
            model leaves dynamic (static sizes let every resize take its fixed-size path);
            `None` entries stay dynamic. Defaults to the model's.
        batch_size: a fixed batch size, or `None` for any.
        fold_bn: fold batch normalisation into the preceding convolutions first.

    Returns:
        A function from an image batch (array or tensor) to the model's outputs, in the
        model's output structure (a tensor or a dict of tensors). A batch of another shape
        than `(batch_size, *input_shape)` raises a `ValueError`.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import hrnetv2
    >>> model = hrnetv2(width=4, num_classes=3)  # any input size
    >>> infer = inference_function(model, input_shape=(96, 64, 3))
    >>> x = np.random.default_rng(0).random((2, 96, 64, 3), dtype="float32")
    >>> a, b = np.asarray(model(x)), np.asarray(infer(x))
    >>> b.shape, bool(np.abs(a - b).max() <= 1e-5 * np.abs(a).max())
    ((2, 24, 16, 3), True)
    """
    if not is_graph_model(model) or len(model.inputs) != 1:
        raise ValueError(
            "`model` must be a single-input functional or Sequential keras.Model. "
            f"Received: model={model!r}"
        )
    shape = _check_shape(input_shape, model)
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(
            f"`batch_size` must be a positive int or None. Received: batch_size={batch_size!r}"
        )
    if fold_bn:
        model = fold_batch_norm(model)
    dtype = tf.as_dtype(model.inputs[0].dtype)
    spec = tf.TensorSpec((batch_size, *shape), dtype)
    traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(traced)
    structure = traced.structured_outputs

    def infer(images):
        images = tf.convert_to_tensor(images, dtype)
        if not spec.shape.is_compatible_with(images.shape):
            raise ValueError(
                f"`images` must have shape {tuple(spec.shape)} (None: any size). "
                f"Received: images.shape={tuple(images.shape)}"
            )
        return tf.nest.pack_sequence_as(structure, frozen(images))

    return infer
