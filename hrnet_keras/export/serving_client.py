"""A small TF Serving client: send photos to a served model, draw its answer.

REST needs only NumPy and PIL (and the standard library): the photos travel as
`{"b64": ...}` strings in the JSON body, TF Serving's rule for binary string inputs, to the
`serving_bytes` signature. gRPC (`predict_grpc`) uses the `tensorflow-serving-api` stubs.
This module imports nothing else of hrnet_keras, so it can be copied beside a client
application.

    python -m hrnet_keras.export.serving_client photo.jpg --model segmenter --out answer.png
    python -m hrnet_keras.export.serving_client face.jpg --model faces --box 10,20,200,200

Answers, by output name: `classes` (a class map) is drawn as coloured regions, `landmarks`
as dots, `boxes` (with `scores` above `--score-threshold`) as rectangles, `labels` with
`probabilities` (top-k classes) as text.
"""

import argparse
import base64
import io
import json
import sys
import urllib.error
import urllib.request

import numpy as np


def rest_request_body(photos, *, boxes=None, signature="serving_bytes"):
    """The JSON body (a dict) of a REST predict request in TF Serving's row format.

    Args:
        photos: encoded files (bytes), one per instance.
        boxes: None, or one `(x, y, width, height)` per photo (the landmark model's `box`).
        signature: the signature name.

    Example:
    >>> body = rest_request_body([b"\\xff\\xd8\\xff"], boxes=[(1, 2, 3, 4)])
    >>> body["signature_name"], body["instances"]
    ('serving_bytes', [{'images': {'b64': '/9j/'}, 'box': [1.0, 2.0, 3.0, 4.0]}])
    """
    photos = list(photos)
    if boxes is not None and len(boxes) != len(photos):
        raise ValueError(f"One box per photo. Received: {len(photos)} photos, {len(boxes)} boxes")
    instances = []
    for i, photo in enumerate(photos):
        instance = {"images": {"b64": base64.b64encode(bytes(photo)).decode("ascii")}}
        if boxes is not None:
            instance["box"] = [float(v) for v in boxes[i]]
        instances.append(instance)
    return {"signature_name": signature, "instances": instances}


def _array(values):
    array = np.asarray(values)
    return array if array.dtype != object else np.asarray(values, dtype=object)


def parse_rest_response(body):
    """A REST predict response (row or column format, a dict or its JSON text) as
    `{output name: array}` with the instances along the first axis; a lone unnamed output is
    `outputs`; a `{"b64": ...}` value becomes bytes. An `error` answer raises `ServingError`.

    Example:
    >>> out = parse_rest_response('{"predictions": [{"landmarks": [[1.5, 2.0]]}]}')
    >>> out["landmarks"].shape
    (1, 1, 2)
    """
    if isinstance(body, (str, bytes)):
        body = json.loads(body)
    if "error" in body:
        raise ServingError(body["error"])
    if "predictions" in body:
        rows = body["predictions"]
        if rows and isinstance(rows[0], dict):
            return {name: _array([_unb64(row[name]) for row in rows]) for name in rows[0]}
        return {"outputs": _array(rows)}
    if "outputs" in body:
        outputs = body["outputs"]
        if isinstance(outputs, dict):
            return {name: _array(_unb64(value)) for name, value in outputs.items()}
        return {"outputs": _array(outputs)}
    raise ServingError(f"Not a predict response: no predictions or outputs. Received: {body}")


def _unb64(value):
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_unb64(v) for v in value]
    return value


class ServingError(RuntimeError):
    """The server answered a request with an error (its message is the served graph's)."""


def predict_rest(
    photos, *, model, url="http://localhost:8501", boxes=None, signature="serving_bytes", timeout=60
):
    """POSTs photos to `url/v1/models/MODEL:predict`; returns `parse_rest_response`'s dict.

    A request the model rejects (a file that is no image, a box outside its photo) raises
    `ServingError` with the server's message.
    """
    data = json.dumps(rest_request_body(photos, boxes=boxes, signature=signature)).encode()
    request = urllib.request.Request(
        f"{url.rstrip('/')}/v1/models/{model}:predict",
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return parse_rest_response(response.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", "replace")
        try:
            message = json.loads(text).get("error", text)
        except ValueError:
            message = text
        raise ServingError(f"HTTP {error.code}: {message}") from None


def predict_grpc(
    photos, *, model, target="localhost:8500", boxes=None, signature="serving_bytes", timeout=60
):
    """The same request over gRPC (`tensorflow-serving-api` and `grpcio` needed)."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    photos = [bytes(photo) for photo in photos]
    request.inputs["images"].CopyFrom(tf.make_tensor_proto(photos, tf.string, [len(photos)]))
    if boxes is not None:
        request.inputs["box"].CopyFrom(tf.make_tensor_proto(np.asarray(boxes, np.float32)))
    with grpc.insecure_channel(target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        response = stub.Predict(request, timeout=timeout)
    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


def _palette(count):
    rng = np.random.default_rng(7)
    colours = rng.integers(40, 256, (max(count, 1), 3), dtype=np.uint8)
    colours[0] = 0
    return colours


def draw_answer(photo, outputs, index=0, *, score_threshold=0.3, alpha=0.5):
    """The photo (encoded bytes) with answer `index` of `outputs` drawn on it (a PIL image)."""
    from PIL import Image, ImageDraw

    image = Image.open(io.BytesIO(photo)).convert("RGB")
    if "classes" in outputs:
        classes = np.asarray(outputs["classes"][index])[: image.height, : image.width]
        colours = _palette(int(classes.max()) + 1)[np.maximum(classes, 0)]
        blended = (1 - alpha) * np.asarray(image, np.float32) + alpha * colours
        image = Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    radius = max(1, round(max(image.size) / 200))
    if "landmarks" in outputs:
        for x, y in np.asarray(outputs["landmarks"][index], np.float32):
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(0, 255, 0))
    if "boxes" in outputs:
        scores = np.asarray(outputs.get("scores", np.ones(np.shape(outputs["boxes"])[:2])))
        for box, score in zip(np.asarray(outputs["boxes"][index]), scores[index]):
            if score >= score_threshold:
                draw.rectangle([float(v) for v in box], outline=(255, 0, 0), width=radius)
    if "labels" in outputs and "probabilities" in outputs and "boxes" not in outputs:
        lines = [
            f"{_text(label)} {float(p):.2f}"
            for label, p in zip(outputs["labels"][index], outputs["probabilities"][index])
        ]
        draw.multiline_text((4, 4), "\n".join(lines), fill=(255, 255, 0))
    return image


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m hrnet_keras.export.serving_client", description=__doc__.split("\n")[0]
    )
    parser.add_argument("photo", help="a JPEG or PNG file")
    parser.add_argument("--model", required=True, help="the model's name on the server")
    parser.add_argument("--url", default="http://localhost:8501", help="REST address")
    parser.add_argument("--grpc", default=None, help="host:port: use gRPC instead of REST")
    parser.add_argument("--box", default=None, help="x,y,width,height: the face (landmarks)")
    parser.add_argument("--out", default="answer.png", help="the picture of the answer")
    parser.add_argument("--score-threshold", type=float, default=0.3, help="boxes drawn")
    args = parser.parse_args(argv)
    with open(args.photo, "rb") as f:
        photo = f.read()
    boxes = None if args.box is None else [[float(v) for v in args.box.split(",")]]
    try:
        if args.grpc:
            outputs = predict_grpc([photo], model=args.model, target=args.grpc, boxes=boxes)
        else:
            outputs = predict_rest([photo], model=args.model, url=args.url, boxes=boxes)
    except (ServingError, OSError) as error:
        print(f"serving_client: error: {error}", file=sys.stderr)
        return 1
    draw_answer(photo, outputs, score_threshold=args.score_threshold).save(args.out)
    print(json.dumps({name: list(np.shape(value)) for name, value in outputs.items()}))
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
