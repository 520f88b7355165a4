"""A Keras model's forward pass as one TensorFlow graph, for fast inference."""

import weakref

import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import (
    convert_variables_to_constants_v2,
)

from hrnet_keras.models.fold_batch_norm import fold_batch_norm, is_graph_model

# model -> {arguments: (weight fingerprint, function)}. The functions hold no reference to
# the model (a folded copy, constants, or a weak reference), so a model that goes away takes
# its functions with it.
_CACHE = weakref.WeakKeyDictionary()


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


def _check_flag(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")


def weights_fingerprint(model):
    """Bytes that change when any weight of `model` changes: each weight's sum and sum of
    squares, in float64 (one pass over the weights: about 50 ms for HRNetV2-W48's 66M).

    Example:
    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> before = weights_fingerprint(model)
    >>> _ = model.layers[0].bias.assign([1.0])
    >>> weights_fingerprint(model) == before
    False
    """
    sums = []
    for weight in model.weights:
        value = tf.cast(tf.convert_to_tensor(weight.value), tf.float64)
        sums.append(tf.stack([tf.reduce_sum(value), tf.reduce_sum(value * value)]))
    return np.asarray(tf.stack(sums)).tobytes() if sums else b""


def _build(model, spec, fold_bn, constants):
    """The traced graph, from images to the model's output structure."""
    if fold_bn:
        model = fold_batch_norm(model)
        target = lambda: model  # noqa: E731  the folded copy lives as long as the function
    else:
        target = weakref.ref(model)  # the caller (or the cache's key) keeps the model
    traced = tf.function(lambda x: target()(x, training=False)).get_concrete_function(spec)
    if constants:
        frozen = convert_variables_to_constants_v2(traced)
        structure = traced.structured_outputs
        return lambda images: tf.nest.pack_sequence_as(structure, frozen(images))
    # tf.function holds variables weakly: the closure above keeps a folded copy alive.
    return traced


def cached_inference_function(model):
    """The functions `inference_function(model, ..., cache=True)` made that are still
    valid: `{(input_shape, batch_size, fold_bn, constants): function}`.

    Example:
    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> cached_inference_function(model)
    {}
    >>> infer = inference_function(model, cache=True)
    >>> cached_inference_function(model) == {((4,), None, True, True): infer}
    True
    """
    entries = _CACHE.get(model, {})
    if not entries:
        return {}
    fingerprint = weights_fingerprint(model)
    return {key: fn for key, (mark, fn) in entries.items() if mark in (None, fingerprint)}


def inference_function(
    model, *, input_shape=None, batch_size=None, fold_bn=True, constants=True, cache=False
):
    """`model`'s inference as one TensorFlow graph, by default with its weights as constants.

    A `tf.function` of a Keras model reads every weight from a variable and reshapes each
    bias on every call: about 1,300 small ops for HRNetV2-W18, all overhead at batch 1.
    With the weights frozen into constants Grappler folds them away, and with batch
    normalisation folded into the convolutions (`fold_batch_norm`) each unit is one
    convolution with bias. This is the form to time and to serve in-process; it cannot be
    trained.

    Freezing has a price: converting the variables to constants copies the weights several
    times (HRNetV2-W48's 260 MB of weights take about 5 GB more peak memory than the model,
    and tens of seconds). `constants=False` keeps the folded weights as variables of a
    folded copy: the same graph of convolutions with bias, traced once, for the memory of
    one more copy of the weights; W48 ran at the same speed both ways at 256x512 (2 cores,
    oneDNN on), 3x faster than eager calls (docs/inference.md).

    Args:
        model: a single-input functional or Sequential `keras.Model`.
        input_shape: the input shape without the batch size, to fix the dimensions the
            model leaves dynamic (static sizes let every resize take its fixed-size path);
            `None` entries stay dynamic: one graph serves every image size. Defaults to
            the model's.
        batch_size: a fixed batch size, or `None` for any.
        fold_bn: fold batch normalisation into the preceding convolutions first.
        constants: freeze the weights into the graph as constants.
        cache: return the function an earlier call with the same model and arguments made,
            unless the model's weights have changed since (`weights_fingerprint`); else make
            one and keep it for the next call (for as long as the model lives).

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
    >>> import keras
    >>> small = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3),
    ...                           keras.layers.BatchNormalization()])
    >>> any_size = inference_function(small, constants=False, cache=True)
    >>> any_size is inference_function(small, constants=False, cache=True)
    True
    >>> any_size(x[:1, :64]).shape
    TensorShape([1, 62, 62, 2])
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
    for name, value in (("fold_bn", fold_bn), ("constants", constants), ("cache", cache)):
        _check_flag(name, value)
    key = (shape, batch_size, fold_bn, constants)
    # The graph reads the model's own variables when it neither folds nor freezes them.
    live = not fold_bn and not constants
    fingerprint = None
    if cache:
        entries = _CACHE.setdefault(model, {})
        fingerprint = None if live else weights_fingerprint(model)
        if key in entries and entries[key][0] == fingerprint:
            return entries[key][1]

    dtype = tf.as_dtype(model.inputs[0].dtype)
    spec = tf.TensorSpec((batch_size, *shape), dtype)
    call = _build(model, spec, fold_bn, constants)

    def infer(images):
        images = tf.convert_to_tensor(images, dtype)
        if not spec.shape.is_compatible_with(images.shape):
            raise ValueError(
                f"`images` must have shape {tuple(spec.shape)} (None: any size). "
                f"Received: images.shape={tuple(images.shape)}"
            )
        return call(images)

    if cache:
        entries[key] = (fingerprint, infer)
    if live:
        # A function of the model's own variables keeps the model alive (the cache's copy
        # holds it weakly).
        cached = infer

        def infer(images, _model=model):
            return cached(images)

    return infer
