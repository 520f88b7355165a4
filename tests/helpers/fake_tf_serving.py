"""A stand-in for TF Serving's model server, for tests: `python fake_tf_serving.py NAME=DIR ...`.

No TF Serving binary installs here (it is neither on PyPI nor in Debian), so this script does
what the server does with a model, with TensorFlow alone, in a process where hrnet_keras
cannot be imported:

- loads the newest version of each model folder through TensorFlow's v1 Session loader
  (`tf.compat.v1.saved_model.loader.load`, tag `serve`), the loader TF Serving uses;
- replays `assets.extra/tf_serving_warmup_requests` (PredictionLog records) through the
  session, feeding the tensors named by each signature's SignatureDef;
- answers REST predict requests, `POST /v1/models/NAME:predict`, under the server's JSON
  rules (row `instances` or columnar `inputs`; `{"b64": ...}` for binary strings; answers
  in `predictions` / `outputs`, unnamed when the signature has one output; a failed run
  is `{"error": message}` with status 400);
- answers gRPC `PredictionService.Predict` requests (the `tensorflow-serving-api` stubs).

It prints one JSON line, `{"port": ..., "grpc_port": ..., "warmup": {name: [[signature,
{output: shape}]]}, "hrnet_keras": false}`, once it serves, and runs until it is terminated.
"""

import base64
import importlib.util
import json
import os
import sys

# No hrnet_keras: drop its editable-install finder and any path that holds the package.
sys.meta_path = [
    f
    for f in sys.meta_path
    if "editable" not in type(f).__module__.lower()
    and "editable" not in getattr(f, "__name__", "").lower()
]
sys.path = [p for p in sys.path if p and not os.path.isdir(os.path.join(p, "hrnet_keras"))]
assert importlib.util.find_spec("hrnet_keras") is None, "hrnet_keras is importable"

import http.server  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import (  # noqa: E402
    predict_pb2,
    prediction_log_pb2,
    prediction_service_pb2_grpc,
)


class ServedModel:
    """One model's newest version in a v1 Session, run by SignatureDef tensor names."""

    def __init__(self, folder):
        versions = sorted(int(v) for v in os.listdir(folder) if v.isdigit())
        self.path = os.path.join(folder, str(versions[-1]))
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        with self.graph.as_default():
            meta = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], self.path)
        self.signatures = dict(meta.signature_def)

    def run(self, signature_name, inputs):
        """`{output: array}` of the signature on `{input name: array}`, fed by tensor name."""
        signature = self.signatures[signature_name]
        missing = set(signature.inputs) - set(inputs)
        if missing:
            raise ValueError(f"missing inputs {sorted(missing)}")
        feed = {signature.inputs[name].name: value for name, value in inputs.items()}
        names = sorted(signature.outputs)
        fetches = [signature.outputs[name].name for name in names]
        return dict(zip(names, self.session.run(fetches, feed)))

    def replay_warmup(self):
        """Runs every warm-up record; returns `[[signature, {output: shape}]]`."""
        path = os.path.join(self.path, "assets.extra", "tf_serving_warmup_requests")
        replayed = []
        for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
            log = prediction_log_pb2.PredictionLog.FromString(record)
            request = log.predict_log.request
            inputs = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
            outputs = self.run(request.model_spec.signature_name, inputs)
            shapes = {name: list(value.shape) for name, value in outputs.items()}
            replayed.append([request.model_spec.signature_name, shapes])
        return replayed

    def input_dtypes(self, signature_name):
        signature = self.signatures[signature_name]
        return {name: tf.dtypes.as_dtype(info.dtype) for name, info in signature.inputs.items()}


def _decode(value, dtype):
    """A JSON value as the server reads it: `{"b64": ...}` is binary, lists are tensors."""
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_decode(v, dtype) for v in value]
    return value


def _as_array(values, dtype):
    if dtype == tf.string:
        array = np.empty(len(values), dtype=object)
        array[:] = [v if isinstance(v, bytes) else str(v).encode() for v in values]
        return array
    return np.asarray(values, dtype=dtype.as_numpy_dtype)


def _encode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def rest_predict(model, body):
    signature_name = body.get("signature_name", "serving_default")
    dtypes = model.input_dtypes(signature_name)
    if "instances" in body:
        rows = body["instances"]
        if rows and not isinstance(rows[0], dict):
            (name,) = dtypes
            rows = [{name: row} for row in rows]
        inputs = {
            name: _as_array([_decode(row[name], dtype) for row in rows], dtype)
            for name, dtype in dtypes.items()
            if rows and name in rows[0]
        }
    else:
        columns = body["inputs"]
        if not isinstance(columns, dict):
            (name,) = dtypes
            columns = {name: columns}
        inputs = {
            name: _as_array(_decode(columns[name], dtypes[name]), dtypes[name]) for name in columns
        }
    outputs = model.run(signature_name, inputs)
    lists = {
        name: np.vectorize(_encode, otypes=[object])(v).tolist()
        if v.dtype == object
        else v.tolist()
        for name, v in outputs.items()
    }
    # The server's rule: a signature with one output answers with its values, unnamed.
    (only,) = lists.values() if len(lists) == 1 else (None,)
    if "instances" in body:
        count = len(next(iter(lists.values())))
        if only is not None:
            return {"predictions": only}
        return {"predictions": [{name: lists[name][i] for name in lists} for i in range(count)]}
    return {"outputs": lists if only is None else only}


def grpc_server(models):
    """A gRPC `PredictionService` answering `Predict` from the same sessions; its port."""
    from concurrent import futures

    import grpc

    class Service(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):
            model = models.get(request.model_spec.name)
            if model is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no model {request.model_spec.name}")
            inputs = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
            try:
                outputs = model.run(request.model_spec.signature_name or "serving_default", inputs)
            except tf.errors.OpError as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, error.message)
            response = predict_pb2.PredictResponse()
            for name, value in outputs.items():
                response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def main(argv):
    models = {}
    warmup = {}
    for argument in argv:
        name, folder = argument.split("=", 1)
        models[name] = ServedModel(folder)
        warmup[name] = models[name].replay_warmup()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            prefix, _, rest = self.path.partition("/v1/models/")
            name, _, verb = rest.partition(":")
            if prefix or verb != "predict" or name not in models:
                self._answer(404, {"error": f"no such model or method: {self.path}"})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            try:
                self._answer(200, rest_predict(models[name], body))
            except tf.errors.OpError as error:
                self._answer(400, {"error": error.message})
            except (KeyError, ValueError, TypeError) as error:
                self._answer(400, {"error": f"malformed request: {error}"})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    _grpc, grpc_port = grpc_server(models)
    hrnet_loaded = any(module.startswith("hrnet_keras") for module in sys.modules)
    report = {
        "port": server.server_address[1],
        "grpc_port": grpc_port,
        "warmup": warmup,
        "hrnet_keras": hrnet_loaded,
    }
    print(json.dumps(report), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
