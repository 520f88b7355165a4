"""TFLite export: the served graph (preprocessing and decoding inside) as a `.tflite` file.

Quantisation variants:

- `"none"`: float32 weights and activations.
- `"float16"`: float16 weights (dequantised at load; half the file).
- `"dynamic"`: int8 weights, activations quantised on the fly (dynamic range).
- `"int8"`: int8 weights and activations, calibrated on a representative dataset; the
  ops of `float_layers` (for landmarks: the decoder, the last stage and the head) stay
  float.
"""

import fnmatch
import tempfile

import keras
import numpy as np
import tensorflow as tf

from hrnet_keras.utils.atomic import atomic_path

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")


def _check_quantize(quantize):
    if quantize not in QUANTIZATIONS:
        raise ValueError(
            f"`quantize` must be one of {QUANTIZATIONS}. Received: quantize={quantize!r}"
        )


def convert_to_tflite(
    model, *, quantize="none", representative_data=None, batch_size=1, float_layers=()
):
    """The TFLite flatbuffer (bytes) of `model`, whose one input is an image batch.

    Args:
        model: a `keras.Model` (typically a task's `serving_model`): one input, outputs a
            tensor or a dict of tensors (they become the signature's named outputs).
        quantize: `"none"`, `"float16"`, `"dynamic"` or `"int8"`.
        representative_data: for `"int8"`, an iterable of input batches (arrays of the
            model's input dtype and a shape `(n, *input_shape[1:])`); a few hundred
            examples of real inputs.
        batch_size: the fixed batch dimension of the file (1 for on-device use).
        float_layers: names or glob patterns (`"stage4_module*_fuse*"`) of layers of
            `model`, nested models' layers included, whose ops stay float in an `"int8"`
            file (a landmark decoder: sub-pixel arithmetic on int8 values loses its
            precision).

    Returns:
        `bytes`.

    Example:
    >>> import keras
    >>> inputs = keras.Input((4, 4, 3))
    >>> model = keras.Model(inputs, {"mean": keras.layers.GlobalAveragePooling2D()(inputs)})
    >>> len(convert_to_tflite(model)) > 0
    True
    """
    return convert_variants(
        model,
        (quantize,),
        representative_data=representative_data,
        batch_size=batch_size,
        float_layers=float_layers,
    )[quantize]


def convert_variants(
    model, quantizations=QUANTIZATIONS, *, representative_data=None, batch_size=1, float_layers=()
):
    """`{quantize: flatbuffer}` for each of `quantizations`, from one traced SavedModel.

    Converting several variants this way traces and writes the model once (for an HRNet,
    about as long as one conversion).

    Args:
        model: see `convert_to_tflite`.
        quantizations: a sequence of `"none"`, `"float16"`, `"dynamic"`, `"int8"`.
        representative_data / batch_size / float_layers: see `convert_to_tflite`.

    Returns:
        A dict from each of `quantizations` to `bytes`.

    Example:
    >>> import keras
    >>> inputs = keras.Input((4, 4, 3))
    >>> model = keras.Model(inputs, {"mean": keras.layers.GlobalAveragePooling2D()(inputs)})
    >>> sorted(convert_variants(model, ("none", "float16")))
    ['float16', 'none']
    """
    for quantize in quantizations:
        _check_quantize(quantize)
    if "int8" in quantizations:
        if representative_data is None:
            raise ValueError(
                "int8 quantisation needs `representative_data`. Received: representative_data=None"
            )
        representative_data = [np.asarray(batch) for batch in representative_data]
    shape = (batch_size, *model.input_shape[1:])
    dtype = tf.as_dtype(model.inputs[0].dtype)
    name = model.inputs[0].name.split(":")[0] or "input"

    # Through a SavedModel: the converter then freezes the Keras variables into constants
    # (from a bare concrete function it keeps them as resource variables LiteRT cannot read).
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serving_default",
        fn=lambda inputs: model(inputs, training=False),
        input_signature=[tf.TensorSpec(shape, dtype, name=name)],
    )
    with tempfile.TemporaryDirectory() as folder:
        archive.write_out(folder, verbose=False)
        return {
            quantize: _convert(
                tf.lite.TFLiteConverter.from_saved_model(folder, ["serving_default"]),
                quantize,
                representative_data,
                dtype,
                float_layers,
            )
            for quantize in quantizations
        }


def _float_tensor_names(flatbuffer, layers):
    """Names of the tensors the ops of `layers` (glob patterns of layer names) write,
    including signature outputs so named."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter
    interpreter = Interpreter(model_content=flatbuffer)

    def matches(name):
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in layers)

    # Ops are named `<model>/<layer>_<n>/<op>` (nested models add a level); a layer's last
    # op is renamed after the output. A layer's call index `_<n>` is dropped before matching.
    def in_layers(tensor_name):
        parts = [p for name in tensor_name.split(";") for p in name.split("/")[1:-1]]
        return any(matches(part) or matches(part.rsplit("_", 1)[0]) for part in parts)

    details = interpreter.get_tensor_details()
    names = [t["name"] for t in details if in_layers(t["name"])]
    index_to_name = {t["index"]: t["name"] for t in details}
    for signature in interpreter.get_signature_list():
        outputs = interpreter.get_signature_runner(signature).get_output_details()
        names += [index_to_name[d["index"]] for key, d in outputs.items() if matches(key)]
    return names


def _convert(converter, quantize, representative_data, dtype, float_layers):
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":

        def calibration():
            for batch in representative_data:
                batch = np.asarray(batch).astype(dtype.as_numpy_dtype)
                for i in range(len(batch)):
                    yield [batch[i : i + 1]]

        converter.representative_dataset = calibration
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS,
        ]
    if quantize != "int8" or not float_layers:
        return converter.convert()
    # Calibrate once, then quantise with the float layers' ops on the denylist: the call
    # `tf.lite.experimental.QuantizationDebugger.get_nondebug_quantized_model` makes, without
    # the debugger's second calibration and instrumented model.
    from tensorflow.lite.python.convert import mlir_quantize

    converter._experimental_calibrate_only = True
    calibrated = converter.convert()
    return mlir_quantize(
        calibrated,
        disable_per_channel=converter._experimental_disable_per_channel,
        denylisted_nodes=_float_tensor_names(calibrated, float_layers),
    )


def export_tflite(
    model, path, *, task=None, quantize="none", representative_data=None, heatmaps=False
):
    """Writes `model`'s served graph to `path` (`.tflite`), atomically.

    Args:
        model: the trained `keras.Model`.
        path: the output file.
        task: when given, `task.serving_model(model, heatmaps=...)` is exported (for
            landmarks: uint8 RGB crop in, coordinates in crop pixels out); else `model`.
        quantize / representative_data: see `convert_to_tflite`.
        heatmaps: also output the heatmaps (landmark tasks).

    Returns:
        `path`.
    """
    serving = model
    if task is not None:
        serving = (
            task.serving_model(model, heatmaps=heatmaps) if heatmaps else task.serving_model(model)
        )
    flatbuffer = convert_to_tflite(
        serving,
        quantize=quantize,
        representative_data=representative_data,
        float_layers=getattr(task, "float_layers", ()),
    )
    with atomic_path(path) as partial, open(partial, "wb") as f:
        f.write(flatbuffer)
    return path
