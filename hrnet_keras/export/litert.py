"""Running `.tflite` files with LiteRT (`ai-edge-litert`), XNNPACK on the CPU."""

import statistics
import time

import numpy as np


def load_interpreter(path, num_threads=2):
    """A LiteRT `Interpreter` for `path`, with the default XNNPACK delegate and `num_threads`.

    Example (needs `ai-edge-litert`):
    >>> import os, tempfile, keras
    >>> from hrnet_keras.export.tflite import export_tflite
    >>> inputs = keras.Input((4, 4, 3))
    >>> model = keras.Model(inputs, {"mean": keras.layers.GlobalAveragePooling2D()(inputs)})
    >>> path = export_tflite(model, os.path.join(tempfile.mkdtemp(), "m.tflite"))
    >>> run_signature(load_interpreter(path), np.ones((1, 4, 4, 3), "float32"))["mean"].tolist()
    [[1.0, 1.0, 1.0]]
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_path=str(path),
        num_threads=num_threads,
        # BUILTIN applies LiteRT's default delegate, XNNPACK, to every op it supports.
        experimental_op_resolver_type=OpResolverType.BUILTIN,
    )
    interpreter.allocate_tensors()
    return interpreter


def run_signature(interpreter, inputs):
    """Runs the file's one signature on `inputs` (its one input), batch by the file's batch size.

    Returns:
        `{output name: array}`, batches concatenated.
    """
    runner = interpreter.get_signature_runner()
    (input_name,) = runner.get_input_details()
    batch = int(runner.get_input_details()[input_name]["shape"][0])
    dtype = runner.get_input_details()[input_name]["dtype"]
    inputs = np.asarray(inputs).astype(dtype)
    outputs = {}
    for start in range(0, len(inputs), batch):
        result = runner(**{input_name: inputs[start : start + batch]})
        for key, value in result.items():
            outputs.setdefault(key, []).append(np.array(value))
    return {key: np.concatenate(values) for key, values in outputs.items()}


def median_latency_ms(interpreter, inputs, *, runs=20, warmup=3):
    """Median wall time in milliseconds of one `invoke` on `inputs` (one batch), after `warmup`."""
    runner = interpreter.get_signature_runner()
    (input_name,) = runner.get_input_details()
    dtype = runner.get_input_details()[input_name]["dtype"]
    feed = {input_name: np.asarray(inputs).astype(dtype)}
    for _ in range(warmup):
        runner(**feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        runner(**feed)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)
