"""Running `.tflite` files with LiteRT (`ai-edge-litert`), XNNPACK on the CPU."""

import collections
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


def delegation(interpreter):
    """Which ops of an allocated interpreter's main graph XNNPACK runs, and which LiteRT's
    builtin kernels run.

    The delegate replaces each partition of supported ops by one `DELEGATE` node whose
    inputs and outputs are the partition's; an op belongs to a partition when it is reached
    from the partition's outputs without crossing its inputs.

    Args:
        interpreter: a LiteRT `Interpreter` after `allocate_tensors()`.

    Returns:
        `{"partitions": number of delegated partitions, "delegated": Counter of op names,
        "builtin": [(op name, elements of its largest output)] for the other ops}`.

    Example (needs `ai-edge-litert`):
    >>> import os, tempfile, keras
    >>> from hrnet_keras.export.tflite import export_tflite
    >>> inputs = keras.Input((4, 4, 3))
    >>> model = keras.Model(inputs, {"mean": keras.layers.GlobalAveragePooling2D()(inputs)})
    >>> path = export_tflite(model, os.path.join(tempfile.mkdtemp(), "m.tflite"))
    >>> report = delegation(load_interpreter(path))
    >>> report["partitions"], dict(report["delegated"]), report["builtin"]
    (1, {'MEAN': 1}, [])
    """
    ops = interpreter._get_ops_details()
    producer = {}
    for op in ops:
        if op["op_name"] != "DELEGATE":
            for tensor in op["outputs"]:
                producer[int(tensor)] = op["index"]
    delegated = set()
    partitions = [op for op in ops if op["op_name"] == "DELEGATE"]
    for partition in partitions:
        boundary = {int(t) for t in partition["inputs"]}
        stack = [int(t) for t in partition["outputs"]]
        while stack:
            tensor = stack.pop()
            index = producer.get(tensor)
            if tensor in boundary or index is None or index in delegated:
                continue
            delegated.add(index)
            stack.extend(int(t) for t in ops[index]["inputs"] if t >= 0)
    sizes = {t["index"]: int(np.prod(t["shape"])) for t in interpreter.get_tensor_details()}
    builtin = [
        (op["op_name"], max(sizes.get(int(t), 0) for t in op["outputs"]))
        for op in ops
        if op["op_name"] != "DELEGATE" and op["index"] not in delegated
    ]
    names = collections.Counter(ops[i]["op_name"] for i in delegated)
    return {"partitions": len(partitions), "delegated": names, "builtin": builtin}
