import json

import keras
import numpy as np
import pytest
from PIL import Image

from hrnet_keras.landmarks import LandmarkConfig, LandmarkDecoder, decode_dark, decode_shift
from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig


def _recipe(**task):
    return Recipe(
        task=LandmarkConfig(dataset="wflw", input_size=64, **task),
        model=ModelConfig(width=4, num_classes=98, bn_momentum=0.99),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=1e-4, schedule="step", boundaries=(30, 50)
        ),
        runtime=RuntimeConfig(global_batch_size=2),
    )


def test_decoder_round_trips_and_dark_is_finer():
    decoder = LandmarkDecoder("dark", stride=4, sigma=1.5)
    clone = LandmarkDecoder.from_config(json.loads(json.dumps(decoder.get_config())))
    assert clone.get_config() == decoder.get_config()
    model = keras.Sequential([keras.Input((16, 16, 2)), decoder])
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    rng = np.random.default_rng(0)
    centres = rng.uniform(3, 12, (2, 2))
    yy, xx = np.mgrid[0:16, 0:16]
    maps = np.stack(
        [np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5**2)) for x, y in centres], -1
    )
    maps = maps[None].astype("float32")
    np.testing.assert_allclose(np.asarray(restored(maps)), np.asarray(model(maps)))
    dark_error = np.abs(np.asarray(decode_dark(maps))[0] - centres).max()
    shift_error = np.abs(np.asarray(decode_shift(maps))[0] - centres).max()
    assert dark_error < 0.02 < shift_error <= 0.5 + 1e-6
    with pytest.raises(ValueError, match="method='argmax'"):
        LandmarkDecoder("argmax")


def _shift_reference(maps):
    """The quarter-pixel rule in NumPy, map by map."""
    _, height, width, k = maps.shape
    out = np.zeros((1, k, 2), np.float32)
    for i in range(k):
        m = maps[0, :, :, i]
        y, x = np.unravel_index(np.argmax(m), m.shape)
        sx = 0.25 * np.sign(m[y, x + 1] - m[y, x - 1]) if 0 < x < width - 1 else 0.0
        sy = 0.25 * np.sign(m[y + 1, x] - m[y - 1, x]) if 0 < y < height - 1 else 0.0
        out[0, i] = (x + sx, y + sy)
    return out


def test_decoders_read_the_right_neighbours_at_the_borders():
    rng = np.random.default_rng(4)
    maps = rng.uniform(0, 1, (1, 9, 7, 12)).astype("float32")
    # Peaks on each edge and corner, and ties (the first maximum wins).
    for i, (y, x) in enumerate([(0, 0), (0, 6), (8, 0), (8, 6), (0, 3), (4, 0), (8, 3), (4, 6)]):
        maps[0, y, x, i] = 2.0
    maps[0, 2, 2, 8] = maps[0, 5, 5, 8] = 2.0
    np.testing.assert_array_equal(np.asarray(decode_shift(maps)), _shift_reference(maps))
    dark = np.asarray(decode_dark(maps))
    assert np.all(np.isfinite(dark)) and np.all((dark >= 0) & (dark <= [6, 8]))


def test_evaluate_and_predict(shared_data, tmp_path):
    folder = shared_data / "faces" / "wflw"
    csv = (folder / "face_landmarks_wflw_test.csv").read_text().splitlines()
    # The official list layout, with flags, from the sample's CSV rows.
    lines = []
    for i, row in enumerate(csv[1:]):
        fields = row.split(",")
        name, scale, cx, cy = fields[0], float(fields[1]), float(fields[2]), float(fields[3])
        half = scale * 100
        box = [cx - half, cy - half, cx + half, cy + half]
        Image.open(folder / name).save(tmp_path / name)
        flags = ["1" if k == i % 6 else "0" for k in range(6)]
        lines.append(" ".join([*fields[4:], *map(str, box), *flags, name]))
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
    task = _recipe(train_annotations="list.txt", eval_annotations={"test": "list.txt"}).build_task()
    model = task.build_model()
    metrics = task.evaluate(model, tmp_path)
    json.dumps(metrics)
    assert metrics["test"]["count"] == 4
    assert {"test/pose", "test/expression", "test/illumination", "test/makeup"} <= set(metrics)
    assert set(metrics["test"]) == {"nme", "count", "fr_0.08", "auc_0.08", "fr_0.1", "auc_0.1"}
    written = task.predict(model, [tmp_path / name], tmp_path / "out", box="432,113,101,101")
    assert [p.endswith(".png") for p in written] == [True]
    assert Image.open(written[0]).size == Image.open(tmp_path / name).size
    written = task.predict(
        model, [tmp_path / name], tmp_path / "out2", annotations="list.txt", data_dir=tmp_path
    )
    assert len(written) == 1
    with pytest.raises(ValueError, match="box=None"):
        task.predict(model, [tmp_path / name], tmp_path / "out3")


def test_model_and_loss_follow_the_recipe():
    task = _recipe().build_task()
    model = task.build_model()
    assert tuple(model.output.shape) == (None, 16, 16, 98)
    assert isinstance(task.build_loss(), keras.losses.MeanSquaredError)
    bad = _recipe()
    bad.model.num_classes = 68
    with pytest.raises(ValueError, match="num_classes=68"):
        bad.build_task().build_model()
