"""What a task serves: named signatures, the Keras objects they use, example requests, labels.

A task says what its SavedModel serves through `Task.serving_signatures(model)`, which
returns a `ServingSignatures`; `hrnet_keras.export.export_savedmodel` writes it with
`keras.export.ExportArchive` (the form TF Serving's Session loader reads), adds the warm-up
requests built from each signature's `example` and the label map as an asset. The default
(`from_serving_model`) serves the task's `serving_model`: `serving_default` on uint8 images,
and `serving_bytes` on encoded files when the serving model has a `serve_bytes` method.
"""

import dataclasses
import io
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from hrnet_keras.export.serving_inputs import IMAGES_SPEC, check_uint8_images


@dataclasses.dataclass(frozen=True)
class Signature:
    """One served signature.

    Attributes:
        name: the signature key (`serving_default`, `serving_bytes`).
        function: from the inputs of `input_signature` (in order) to a dict of named outputs.
        input_signature: `tf.TensorSpec`s whose names are the request's input names.
        example: a small request, `{input name: array}`, for the warm-up records; None
            builds one from `input_signature` (`example_request`).
    """

    name: str
    function: Callable
    input_signature: Sequence[tf.TensorSpec]
    example: dict | None = None

    def example_request(self):
        """`example`, or one made from the input specs: a 64x48 JPEG for a string input,
        a zero image batch for an image tensor, zeros otherwise."""
        if self.example is not None:
            return dict(self.example)
        request = {}
        for spec in self.input_signature:
            shape = [1 if i == 0 else d for i, d in enumerate(spec.shape)]
            if spec.dtype == tf.string:
                request[spec.name] = np.array([sample_jpeg()] * shape[0], dtype=object)
            else:
                shape = [64 if d is None else d for d in shape]
                request[spec.name] = np.zeros(shape, spec.dtype.as_numpy_dtype)
        return request


@dataclasses.dataclass(frozen=True)
class ServingSignatures:
    """A task's served signatures.

    Attributes:
        tracked: the Keras models / layers whose variables the functions use.
        signatures: `Signature`s; one is named `serving_default`.
        labels: class names, one per class index (written as the label map), or None.
    """

    tracked: Sequence
    signatures: Sequence[Signature]
    labels: Sequence[str] | None = None

    def __post_init__(self):
        names = [s.name for s in self.signatures]
        if "serving_default" not in names or len(set(names)) != len(names):
            raise ValueError(
                "Signatures need unique names, one of them `serving_default`. "
                f"Received: names={names}"
            )


def float32_outputs(outputs):
    """A dict of outputs (`outputs` for a lone tensor), floats as float32 (what clients
    expect, also from mixed-precision models)."""
    if not isinstance(outputs, dict):
        outputs = {"outputs": outputs}
    return {
        name: tf.cast(value, tf.float32) if value.dtype.is_floating else value
        for name, value in outputs.items()
    }


def sample_jpeg(width=64, height=48):
    """A small JPEG (a colour gradient) as bytes, for warm-up requests and examples."""
    from PIL import Image

    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)
    pixels = np.stack(np.broadcast_arrays(x[None, :], y[:, None], (x[None, :] + y[:, None]) / 2))
    buffer = io.BytesIO()
    Image.fromarray(pixels.transpose(1, 2, 0).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def from_serving_model(serving, labels=None):
    """The default signatures of a serving model (what `Task.serving_model` returns).

    `serving_default` calls it on uint8 `images` (its declared `input_signature`, else its
    functional input); `serving_bytes` calls its `serve_bytes` method, when it has one, on
    `images`, a batch of encoded files.

    Example:
    >>> import keras
    >>> model = keras.Sequential([keras.Input((None, None, 3), dtype="uint8"),
    ...                           keras.layers.Rescaling(1 / 255)])
    >>> [s.name for s in from_serving_model(model).signatures]
    ['serving_default']
    """
    declared = getattr(serving, "input_signature", None)
    if declared is not None:
        (spec,) = declared
    else:
        if len(serving.inputs) != 1:
            raise ValueError(
                "Only single-input serving models export to SavedModel. "
                f"Received: {len(serving.inputs)} inputs"
            )
        spec = tf.TensorSpec(tuple(serving.inputs[0].shape), serving.inputs[0].dtype, "images")

    def serve(images):
        if spec.dtype == tf.uint8:
            images = check_uint8_images(images)
        return float32_outputs(serving(images, training=False))

    signatures = [Signature("serving_default", serve, [spec])]
    serve_bytes = getattr(serving, "serve_bytes", None)
    if serve_bytes is not None:
        if not callable(serve_bytes):
            raise ValueError(
                "A serving model's `serve_bytes` is a method. "
                f"Received: serve_bytes={serve_bytes!r}"
            )
        bytes_spec = list(getattr(serve_bytes, "input_signature", None) or [IMAGES_SPEC])
        signatures.append(
            Signature(
                "serving_bytes", lambda *args: float32_outputs(serve_bytes(*args)), bytes_spec
            )
        )
    return ServingSignatures([serving], signatures, labels)
