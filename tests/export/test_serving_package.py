"""TF Serving packaging pieces, on tiny models: version folders, warm-up records, the label
asset, models.config, the checked decoder and the REST client's bodies."""

import base64
import io
import json
import struct

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hrnet_keras.cli import main
from hrnet_keras.export import export_model_version
from hrnet_keras.export.serving_client import (
    ServingError,
    parse_rest_response,
    rest_request_body,
)
from hrnet_keras.export.serving_config import serving_config
from hrnet_keras.export.serving_inputs import decode_image
from hrnet_keras.export.signatures import ServingSignatures, from_serving_model

tensorflow_serving = pytest.importorskip("tensorflow_serving")


def _tiny_model():
    return keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 1)])


def _bmp(width, height):
    row = ((width * 3 + 3) // 4) * 4
    pixels = b"\x00" * (row * height)
    header = b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 0, 0, 0, 0)
    return header + info + pixels


def _warmup_requests(path):
    from tensorflow_serving.apis import prediction_log_pb2

    logs = [
        prediction_log_pb2.PredictionLog.FromString(record)
        for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator()
    ]
    return [log.predict_log.request for log in logs]


def test_versions_are_the_next_free_number_and_never_overwritten(tmp_path):
    model = _tiny_model()
    root = tmp_path / "models" / "tiny"
    assert export_model_version(model, root) == str(root / "1")
    assert export_model_version(model, root, version=5) == str(root / "5")
    assert export_model_version(model, root) == str(root / "6")
    before = (root / "5" / "saved_model.pb").stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="Version 5 of the model exists already"):
        export_model_version(model, root, version=5)
    assert (root / "5" / "saved_model.pb").stat().st_mtime_ns == before
    with pytest.raises(ValueError, match="positive int"):
        export_model_version(model, root, version=0)
    # Written whole by a rename: no temporary folder is left beside the versions.
    assert sorted(p.name for p in root.iterdir()) == ["1", "5", "6"]

    # One warm-up request per signature, which replays through the loaded model.
    (request,) = _warmup_requests(root / "1" / "assets.extra" / "tf_serving_warmup_requests")
    assert request.model_spec.signature_name == "serving_default"
    images = tf.make_ndarray(request.inputs["images"])
    served = tf.saved_model.load(str(root / "1")).signatures["serving_default"]
    assert served(images=tf.constant(images))["outputs"].shape == (1, 64, 64, 2)


def test_labels_and_bytes_signature_of_a_serving_model(tmp_path):
    from hrnet_keras.export.savedmodel import export_savedmodel

    class Task:
        name = "ToyTask"

        def serving_signatures(self, model):
            class Serving(keras.Model):
                def __init__(self, inner):
                    super().__init__()
                    self.inner = inner
                    self.built = True  # its weights are the (built) inner model's

                def call(self, images, training=False):
                    return self.inner(tf.cast(images, tf.float32), training=training)

                def serve_bytes(self, images):
                    from hrnet_keras.export.serving_inputs import map_images

                    def mean_colour(image):
                        return tf.reduce_mean(tf.cast(image, tf.float32), axis=[0, 1])

                    return {"colour": map_images(mean_colour, images, tf.float32)}

            serving = Serving(model)
            serving.input_signature = (tf.TensorSpec((None, None, None, 3), tf.uint8, "images"),)
            served = from_serving_model(serving, labels=("sky", "sea"))
            assert isinstance(served, ServingSignatures)
            return served

    path = export_savedmodel(_tiny_model(), tmp_path / "toy", task=Task())
    assert (tmp_path / "toy" / "assets" / "labels.txt").read_text() == "sky\nsea\n"
    requests = _warmup_requests(tmp_path / "toy" / "assets.extra" / "tf_serving_warmup_requests")
    assert [r.model_spec.signature_name for r in requests] == ["serving_default", "serving_bytes"]
    png = io.BytesIO()
    Image.new("RGB", (3, 2), (10, 20, 30)).save(png, "PNG")
    served = tf.saved_model.load(path).signatures["serving_bytes"]
    colour = served(images=tf.constant([png.getvalue()]))["colour"].numpy()
    np.testing.assert_allclose(colour, [[10, 20, 30]])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", r"is empty \(0 bytes\)"),
        (b"<html>not a photo</html>", "is not a JPEG, PNG, GIF or BMP file"),
        (_bmp(0, 4), "Width must be positive"),
        (_bmp(4, 0), "Height must be nonzero"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "PNG"),
    ],
    ids=["empty", "not-an-image", "zero-width", "zero-height", "truncated-png"],
)
def test_bad_files_are_invalid_arguments_with_a_message(data, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        decode_image(tf.constant(data))


def test_decoded_jpeg_pixels_are_pils(shared_data):
    path = shared_data / "voc_seg" / "JPEGImages" / "2011_000003.jpg"
    expected = np.asarray(Image.open(path).convert("RGB"))
    np.testing.assert_array_equal(decode_image(tf.constant(path.read_bytes())).numpy(), expected)


def test_serving_config_names_every_model_folder(tmp_path, capsys):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    for version in ("segmenter/1", "segmenter/2", "zoo/faces/3"):
        (tmp_path / version).mkdir(parents=True)
        (tmp_path / version / "saved_model.pb").write_bytes(b"")
    (tmp_path / "zoo" / "notes" / "1").mkdir(parents=True)  # no saved_model.pb: no model
    assert main(["serving-config", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == str(tmp_path / "models.config")
    assert printed[1].startswith("docker run") and f"{tmp_path}:/models" in printed[1]
    assert "--model_config_file=/models/models.config" in printed[1]
    config = text_format.Parse(
        (tmp_path / "models.config").read_text(), model_server_config_pb2.ModelServerConfig()
    )
    entries = [(c.name, c.base_path, c.model_platform) for c in config.model_config_list.config]
    assert entries == [
        ("faces", "/models/zoo/faces", "tensorflow"),
        ("segmenter", "/models/segmenter", "tensorflow"),
    ]
    local = serving_config(tmp_path, base_path=None)
    assert f'base_path: "{tmp_path / "segmenter"}"' in local

    (tmp_path / "other" / "faces" / "1").mkdir(parents=True)
    (tmp_path / "other" / "faces" / "1" / "saved_model.pb").write_bytes(b"")
    assert main(["serving-config", str(tmp_path)]) == 2
    assert "Two model folders have the same name" in capsys.readouterr().err
    assert main(["serving-config", str(tmp_path / "segmenter" / "1")]) == 2
    assert "No model folder" in capsys.readouterr().err


def test_cli_refuses_an_existing_version_before_loading(tmp_path, capsys):
    import pathlib

    recipe = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "voc_sample_tiny.py"
    weights = tmp_path / "w.weights.h5"
    weights.write_bytes(b"")  # never read: the version check comes first
    (tmp_path / "segmenter" / "2").mkdir(parents=True)
    argv = ["export", str(recipe), "--weights", str(weights), "--format", "savedmodel"]
    assert main([*argv, "--out", str(tmp_path / "segmenter"), "--version", "2"]) == 2
    assert "Version 2 exists" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "x.tflite"), "--version", "0"]) == 2
    assert "--version is a positive version number" in capsys.readouterr().err


def test_rest_bodies_follow_the_servers_json_rules():
    body = rest_request_body([b"\x89PNG", b"\xff\xd8\xff"], boxes=[(1, 2, 3, 4), (5, 6, 7, 8)])
    assert body["signature_name"] == "serving_bytes"
    assert [base64.b64decode(i["images"]["b64"]) for i in body["instances"]] == [
        b"\x89PNG",
        b"\xff\xd8\xff",
    ]
    assert body["instances"][1]["box"] == [5.0, 6.0, 7.0, 8.0]
    json.dumps(body)  # serialisable as it is
    with pytest.raises(ValueError, match="One box per photo"):
        rest_request_body([b"a"], boxes=[])

    rows = parse_rest_response(
        {
            "predictions": [
                {"classes": [[0, 1]], "image_size": [1, 2]},
                {"classes": [[2, -1]], "image_size": [1, 1]},
            ]
        }
    )
    assert rows["classes"].shape == (2, 1, 2) and rows["image_size"].tolist() == [[1, 2], [1, 1]]
    columns = parse_rest_response(
        json.dumps({"outputs": {"labels": [["cat"]], "picture": [{"b64": "AAE="}]}})
    )
    assert columns["labels"].tolist() == [["cat"]] and columns["picture"].tolist() == [b"\x00\x01"]
    assert parse_rest_response({"predictions": [[1.0, 2.0]]})["outputs"].shape == (1, 2)
    with pytest.raises(ServingError, match="assertion failed"):
        parse_rest_response({"error": "assertion failed: a box"})


def test_segmentation_bytes_pad_each_map_and_can_add_probabilities():
    from hrnet_keras.segmentation import SegmentationConfig, SegmentationTask
    from hrnet_keras.training import ModelConfig, Recipe

    keras.utils.set_random_seed(0)
    task = SegmentationTask(Recipe(SegmentationConfig(num_classes=3), ModelConfig(width=4)))
    # A stride-4 stand-in for the HRNet (the graph around it is what is tested here).
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(3, 4, strides=4)])
    served = task.serving_signatures(model, probabilities=True)
    serve_bytes = {s.name: s for s in served.signatures}["serving_bytes"].function
    photos = []
    for size in ((40, 24), (24, 32)):  # (width, height)
        png = io.BytesIO()
        pixels = np.random.default_rng(sum(size)).integers(0, 256, (size[1], size[0], 3))
        Image.fromarray(pixels.astype(np.uint8)).save(png, "PNG")
        photos.append(png.getvalue())
    out = {k: v.numpy() for k, v in serve_bytes(tf.constant(photos)).items()}
    assert out["image_size"].tolist() == [[24, 40], [32, 24]]
    assert out["classes"].shape == (2, 32, 40) and out["probabilities"].shape == (2, 32, 40, 3)
    assert (out["classes"][0, 24:] == -1).all() and (out["classes"][1, :, 24:] == -1).all()
    assert (out["probabilities"][1, :, 24:] == 0).all()
    inside = out["probabilities"][0, :24, :40]
    np.testing.assert_allclose(inside.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(inside.argmax(-1), out["classes"][0, :24, :40])


def test_a_uint8_batch_of_zero_height_is_an_invalid_argument():
    from hrnet_keras.export.serving_inputs import check_uint8_images

    with pytest.raises(tf.errors.InvalidArgumentError, match="has zero height or width"):
        check_uint8_images(np.zeros((1, 0, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="must be uint8 RGB"):
        check_uint8_images(np.zeros((1, 2, 4, 3), np.float32))
