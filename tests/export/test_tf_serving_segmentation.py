"""The demo segmenter, exported as a TF Serving model folder, served the way TF Serving loads
it (TensorFlow's v1 Session loader, in a process that cannot import hrnet_keras; warm-up
records replayed first) and asked over REST by the TensorFlow-free client: its answers on
real JPEG and PNG photos of different sizes are the task's own `predict`'s."""

import io
import types

import keras
import numpy as np
import pytest
from PIL import Image
from serving_helpers import fake_tf_serving

from hrnet_keras.export import export_model_version
from hrnet_keras.export.serving_client import (
    ServingError,
    draw_answer,
    parse_rest_response,
    predict_grpc,
    predict_rest,
)
from hrnet_keras.segmentation.sample import SAMPLE_CLASS_NAMES, demo_recipe, write_sample_dataset

pytest.importorskip("tensorflow_serving")

PHOTOS = (
    "voc_seg/JPEGImages/2011_000003.jpg",  # 500 x 338 JPEG
    "faces/300w/indoor_020.png",  # 726 x 768 PNG
    "faces/cofw/001805.jpg",  # 352 x 253 JPEG
)


@pytest.fixture(scope="module")
def served(tmp_path_factory, shared_data):
    """The demo recipe's W18-small-v1 (untrained), exported once and served."""
    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("serving")
    task = demo_recipe().build_task()
    # The sample's class names come with its data, as after the demo's training.
    sample = write_sample_dataset(root / "sample", num_images=2, num_val=1)
    task.files(sample, "train")
    model = task.build_model()
    version = export_model_version(model, root / "models" / "segmenter", task=task)
    with fake_tf_serving({"segmenter": root / "models" / "segmenter"}, cwd=root) as (url, report):
        yield types.SimpleNamespace(
            task=task, model=model, url=url, report=report, version=version, root=root
        )


def test_loads_in_the_session_loader_and_replays_its_warmup(served):
    assert served.version.endswith("segmenter/1")
    assert served.report["hrnet_keras"] is False
    assert served.report["warmup"]["segmenter"] == [
        ["serving_default", {"outputs": [1, 64, 64, 4]}],
        ["serving_bytes", {"classes": [1, 48, 64], "image_size": [1, 2]}],
    ]
    labels = (served.root / "models" / "segmenter" / "1" / "assets" / "labels.txt").read_text()
    assert labels.split() == list(SAMPLE_CLASS_NAMES)


def test_photos_get_the_class_maps_of_predict(served, shared_data, tmp_path):
    photos = [(shared_data / name).read_bytes() for name in PHOTOS]
    answer = predict_rest(photos, model="segmenter", url=served.url)
    sizes = [Image.open(io.BytesIO(photo)).size[::-1] for photo in photos]
    assert answer["image_size"].tolist() == [list(size) for size in sizes]
    assert answer["classes"].shape == (3, 768, 726)

    masks = served.task.predict(
        served.model,
        [str(shared_data / name) for name in PHOTOS],
        tmp_path,
        scales=(1.0,),
        flip=False,
    )[::2]
    for i, (mask, (height, width)) in enumerate(zip(masks, sizes)):
        expected = np.asarray(Image.open(mask))
        classes = answer["classes"][i]
        assert np.mean(classes[:height, :width] == expected) >= 0.999
        assert (classes[height:] == -1).all() and (classes[:, width:] == -1).all()
        # An untrained net's map is not one class: the comparison can fail.
        assert len(np.unique(expected)) > 1

    # A batch of one photo: exactly its size.
    one = predict_rest(photos[2:], model="segmenter", url=served.url)
    assert one["classes"].shape == (1, *sizes[2])
    picture = draw_answer(photos[2], one)
    assert picture.size == sizes[2][::-1]

    # The same request over gRPC, with the tensorflow-serving-api stubs.
    grpc = pytest.importorskip("grpc")
    target = f"127.0.0.1:{served.report['grpc_port']}"
    by_grpc = predict_grpc(photos[2:], model="segmenter", target=target)
    np.testing.assert_array_equal(by_grpc["classes"], one["classes"])
    with pytest.raises(grpc.RpcError, match="is not a JPEG"):
        predict_grpc([b"text"], model="segmenter", target=target)


def test_uint8_images_by_name_give_the_serving_models_logits(served):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 40, 56, 3), dtype=np.uint8)
    import json
    import urllib.request

    body = {"signature_name": "serving_default", "inputs": {"images": images.tolist()}}
    request = urllib.request.Request(
        f"{served.url}/v1/models/segmenter:predict", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        logits = parse_rest_response(response.read())["outputs"]
    expected = np.asarray(served.task.serving_model(served.model)(images))
    np.testing.assert_allclose(logits, expected, atol=1e-3 * np.abs(expected).max())


@pytest.mark.parametrize(
    "photo, message",
    [
        (b"GIF? no: plain text", "is not a JPEG, PNG, GIF or BMP file"),
        (b"", r"is empty \(0 bytes\)"),
        (b"BM" + b"\x00" * 60, "Number of channels"),
    ],
    ids=["not-an-image", "empty", "broken-bmp"],
)
def test_bad_requests_get_an_error_message_and_the_server_keeps_serving(
    served, shared_data, photo, message
):
    good = (shared_data / PHOTOS[2]).read_bytes()
    with pytest.raises(ServingError, match=message) as error:
        predict_rest([good, photo], model="segmenter", url=served.url)
    assert "HTTP 400" in str(error.value)
    assert predict_rest([good], model="segmenter", url=served.url)["classes"].shape[0] == 1
