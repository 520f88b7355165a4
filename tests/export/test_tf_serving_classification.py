"""A folder classifier exported as a TF Serving model folder and served the way TF Serving
loads it (v1 Session loader, a process that cannot import hrnet_keras, warm-up replayed):
over REST, real JPEG and PNG photos of different sizes get the top five of the task's own
`predict`, class names and probabilities."""

import pathlib

import keras
import numpy as np
import pytest
from classification_trees import write_crop_tree
from serving_helpers import fake_tf_serving

from hrnet_keras.export import export_model_version
from hrnet_keras.export.serving_client import predict_rest
from hrnet_keras.training import apply_overrides, load_recipe

pytest.importorskip("tensorflow_serving")

RECIPE = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "folder_classifier.py"
PHOTOS = (
    "voc_seg/JPEGImages/2011_000003.jpg",  # 500 x 338 JPEG
    "faces/300w/indoor_020.png",  # 726 x 768 PNG
    "faces/cofw/001805.jpg",  # 352 x 253 JPEG
)


def _printed_top_classes(out):
    """`{file name: [(class, probability), ...]}` from `predict`'s printed lines."""
    ranked = {}
    for line in out.splitlines():
        path, _, classes = line.rpartition(": ")
        pairs = [item.rsplit(" ", 1) for item in classes.split(", ")]
        ranked[pathlib.Path(path).name] = [(name, float(p)) for name, p in pairs]
    return ranked


def test_photos_get_the_top_five_of_predict(shared_data, tmp_path, capsys):
    keras.utils.set_random_seed(0)
    write_crop_tree(shared_data, tmp_path / "crops")
    recipe = apply_overrides(load_recipe(RECIPE), ["model.width=18-small-v1", "task.crop_size=64"])
    task = recipe.build_task()
    task.prepare(tmp_path / "crops")
    model = task.build_model()
    version = export_model_version(model, tmp_path / "models" / "classifier", task=task)
    labels = (pathlib.Path(version) / "assets" / "labels.txt").read_text().split()
    assert labels == list(task.class_names)

    photos = [shared_data / name for name in PHOTOS]
    capsys.readouterr()
    task.predict(model, [str(p) for p in photos], str(tmp_path / "pictures"))
    expected = _printed_top_classes(capsys.readouterr().out)
    with fake_tf_serving({"classifier": tmp_path / "models" / "classifier"}, cwd=tmp_path) as (
        url,
        report,
    ):
        assert report["hrnet_keras"] is False
        assert [name for name, _ in report["warmup"]["classifier"]] == [
            "serving_default",
            "serving_bytes",
        ]
        answer = predict_rest([p.read_bytes() for p in photos], model="classifier", url=url)
    assert answer["labels"].shape == (3, 5)
    for photo, names, probabilities in zip(photos, answer["labels"], answer["probabilities"]):
        want = expected[photo.name]
        got = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
        assert got == [name for name, _ in want]
        np.testing.assert_allclose(probabilities, [p for _, p in want], atol=1e-3)
    # An untrained net's ranking still differs between photos: the comparison can fail.
    assert len({tuple(row) for row in answer["labels"].tolist()}) > 1
