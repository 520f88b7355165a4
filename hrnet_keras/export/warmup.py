"""TF Serving warm-up records: `assets.extra/tf_serving_warmup_requests` of a SavedModel.

TF Serving replays these `PredictionLog` records when it loads a version, before it serves
it, so the first client request does not pay for graph initialisation. They are built with
the `tensorflow-serving-api` protos (`pip install hrnet_keras[serving]`).
"""

import os

import numpy as np
import tensorflow as tf

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def serving_protos_installed():
    """Whether the `tensorflow-serving-api` protos import."""
    import importlib.util

    return importlib.util.find_spec("tensorflow_serving") is not None


def _serving_apis():
    try:
        from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2
    except ImportError as error:
        raise ImportError(
            "Warm-up records need the TF Serving protos: pip install tensorflow-serving-api "
            f"(or hrnet_keras[serving]). Received: {error}"
        ) from None
    return model_pb2, predict_pb2, prediction_log_pb2


def prediction_log(signature_name, inputs, model_name="model"):
    """A `PredictionLog` holding a `PredictRequest` of `inputs` (`{name: array}`) to
    `signature_name`.

    Example:
    >>> import numpy as np
    >>> log = prediction_log("serving_default", {"images": np.zeros((1, 2, 2, 3), np.uint8)})
    >>> log.predict_log.request.model_spec.signature_name
    'serving_default'
    """
    model_pb2, predict_pb2, prediction_log_pb2 = _serving_apis()
    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name)
    )
    for name, value in inputs.items():
        value = np.asarray(value)
        if value.dtype == object:
            proto = tf.make_tensor_proto(list(value.ravel()), tf.string, value.shape)
        else:
            proto = tf.make_tensor_proto(value)
        request.inputs[name].CopyFrom(proto)
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )


def write_warmup_requests(savedmodel_dir, requests):
    """Writes `requests` (`(signature_name, {input name: array})` pairs) as the SavedModel's
    warm-up records; returns the file's path."""
    path = os.path.join(savedmodel_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for signature_name, inputs in requests:
            writer.write(prediction_log(signature_name, inputs).SerializeToString())
    return path
