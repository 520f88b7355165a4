"""SavedModel export for TensorFlow Serving: a `serving_default` signature (and a
`serving_bytes` one for serving models that decode files), written atomically."""

import os

import keras
import tensorflow as tf

from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD
from hrnet_keras.data.normalization import normalize as normalize_images
from hrnet_keras.models.fold_batch_norm import fold_batch_norm, is_graph_model
from hrnet_keras.utils.atomic import atomic_path

INPUT_DTYPES = ("uint8", "float32")


def _float32_outputs(outputs):
    if not isinstance(outputs, dict):
        outputs = {"outputs": outputs}
    # TF Serving clients expect float32, also from mixed-precision models.
    return {
        name: tf.cast(value, tf.float32) if value.dtype.is_floating else value
        for name, value in outputs.items()
    }


def _serving_function(serving, *, normalize, mean, std):
    def serve(images):
        x = normalize_images(images, mean, std) if normalize else images
        return _float32_outputs(serving(x, training=False))

    return serve


def _bytes_endpoint(serving):
    """`(function, input_signature)` of the serving model's `serve_bytes`, or None."""
    serve_bytes = getattr(serving, "serve_bytes", None)
    if serve_bytes is None:
        return None
    signature = getattr(serve_bytes, "input_signature", None)
    if not callable(serve_bytes) or not signature:
        raise ValueError(
            "A serving model's `serve_bytes` is a `tf.function` with an `input_signature`. "
            f"Received: serve_bytes={serve_bytes!r}"
        )
    return (lambda *args: _float32_outputs(serve_bytes(*args))), list(signature)


def _input_spec(serving, normalize, input_dtype):
    declared = getattr(serving, "input_signature", None)
    if declared is not None and not normalize:
        # A serving model that is no functional graph names its own input.
        (spec,) = declared
        return spec
    if len(serving.inputs) != 1:
        raise ValueError(
            f"Only single-input models export to SavedModel. Received: {len(serving.inputs)} inputs"
        )
    shape = tuple(serving.inputs[0].shape)
    dtype = input_dtype if normalize else serving.inputs[0].dtype
    return tf.TensorSpec(shape, dtype, name="images")


def export_savedmodel(
    model,
    path,
    *,
    task=None,
    normalize=None,
    input_dtype="uint8",
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
    overwrite=True,
    fold_bn=True,
):
    """Writes a SavedModel that TensorFlow Serving serves as it is.

    The `serving_default` signature takes `images` (NHWC, RGB) and returns a dict of float32
    tensors (`outputs` when the model returns one tensor). A serving model that decodes
    encoded files itself (a `serve_bytes` `tf.function` with an `input_signature`, as the
    detection task's) also gets a `serving_bytes` signature of that input. A serving model
    that is not a functional graph declares its input as `input_signature`, a one-element
    sequence of `tf.TensorSpec`.

    With `task`, the graph is `task.serving_model(model)`, whose input type and preprocessing
    are the task's (the segmentation task's takes uint8 images and returns logits at the input
    size). Without, it is `model` behind the normalisation of training, in the graph:
    `(images / 255 - mean) / std` of `uint8` images (or of `float32` ones in [0, 255] with
    `input_dtype="float32"`). HRNet needs heights and widths that are multiples of 32 unless
    the task's serving model pads or resizes.

    The SavedModel is written to a temporary folder beside `path`, then renamed: `path` is
    either the complete previous artifact or the complete new one, never half of one.

    Args:
        model: a Keras model.
        path: the SavedModel folder.
        task: the `Task` whose `serving_model` is exported, or None.
        normalize: normalise inside the graph; default True without `task`, False with one
            (the task's serving model normalises itself).
        input_dtype: `"uint8"` or `"float32"` images, when `normalize`.
        mean / std: the normalisation (ImageNet's RGB statistics by default).
        overwrite: replace an existing artifact at `path`.
        fold_bn: fold batch normalisation into the preceding convolutions
            (`hrnet_keras.models.fold_batch_norm`): the served graph runs about a quarter
            faster and gives the same outputs to float rounding, but cannot be fine-tuned.
            A subclassed model, which has no layer graph to fold, is exported as it is.

    Returns:
        `path`.

    Example:
    >>> import tempfile, os, numpy as np, tensorflow as tf, keras
    >>> from hrnet_keras.export import export_savedmodel
    >>> model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 1)])
    >>> path = export_savedmodel(model, os.path.join(tempfile.mkdtemp(), "model"))
    >>> served = tf.saved_model.load(path).signatures["serving_default"]
    >>> served(images=tf.zeros((1, 32, 32, 3), tf.uint8))["outputs"].shape
    TensorShape([1, 32, 32, 2])
    """
    path = os.path.abspath(os.fspath(path))
    if input_dtype not in INPUT_DTYPES:
        raise ValueError(
            f"`input_dtype` must be one of {INPUT_DTYPES}. Received: input_dtype={input_dtype!r}"
        )
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(
            f"A file or folder exists at the export path. Received: path={path!r}"
        )
    if normalize is None:
        normalize = task is None
    if fold_bn and is_graph_model(model):
        # Before the task wraps it: folding sees the Conv2D/BN pairs of one functional graph.
        model = fold_batch_norm(model)
    serving = task.serving_model(model) if task is not None else model
    archive = keras.export.ExportArchive()
    archive.track(serving)
    archive.add_endpoint(
        name="serving_default",
        fn=_serving_function(serving, normalize=normalize, mean=mean, std=std),
        input_signature=[_input_spec(serving, normalize, input_dtype)],
    )
    endpoint = _bytes_endpoint(serving)
    if endpoint is not None:
        function, signature = endpoint
        archive.add_endpoint(name="serving_bytes", fn=function, input_signature=signature)
    with atomic_path(path) as folder:
        archive.write_out(folder, verbose=False)
    return path
