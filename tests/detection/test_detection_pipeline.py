"""The detection tf.data pipelines against a NumPy / PyTorch computation from the json.

Small sizes (short side 128, long side at most 213, a 224 x 224 canvas) keep them cheap.
"""

import dataclasses
import json
import math
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hrnet_keras.data import IMAGENET_MEAN, IMAGENET_STD, epoch_order
from hrnet_keras.detection.pipeline import (
    boxes_to_original,
    evaluation_dataset,
    resized_size,
    training_dataset,
)
from hrnet_keras.detection.reader import DetectionDataConfig, DetectionReader

SMALL = {"min_size": 128, "max_size": 213}
DATASETS = {"coco_persons": "test_coco.json", "coco_voc": "annotations.json"}


def _config(annotations, **fields):
    return DetectionDataConfig(
        layout="json",
        train_annotations=annotations,
        train_images="",
        eval_annotations=annotations,
        eval_images="",
        **{**SMALL, **fields},
    )


@pytest.fixture(scope="module", params=sorted(DATASETS))
def sample(request, shared_data):
    """`(folder, config, json)` of one real sample set."""
    folder = shared_data / request.param
    with open(folder / DATASETS[request.param]) as f:
        data = json.load(f)
    return folder, _config(DATASETS[request.param]), data


@pytest.fixture(scope="module")
def persons(shared_data):
    folder = shared_data / "coco_persons"
    config = _config("test_coco.json")
    return folder, config, DetectionReader(config, folder)


def _expected(data, folder, image_id, config, flip):
    """mmdet v2's resize / flip of the json's boxes and the image, in NumPy and PyTorch."""
    torch = pytest.importorskip("torch")
    image_info = next(i for i in data["images"] if i["id"] == image_id)
    pixels = np.asarray(Image.open(os.path.join(folder, image_info["file_name"])).convert("RGB"))
    h, w = pixels.shape[:2]
    scale = min(config.min_size / min(h, w), config.max_size / max(h, w))
    new_w, new_h = int(w * scale + 0.5), int(h * scale + 0.5)
    boxes = np.array(
        [
            [x, y, x + bw, y + bh]
            for a in data["annotations"]
            if a["image_id"] == image_id
            for x, y, bw, bh in [a["bbox"]]
        ],
        np.float64,
    ).reshape(-1, 4)
    boxes = boxes * [new_w / w, new_h / h, new_w / w, new_h / h]
    boxes = np.clip(boxes, 0, [new_w, new_h, new_w, new_h])
    tensor = torch.from_numpy(pixels.astype(np.float32)).permute(2, 0, 1)[None]
    resized = torch.nn.functional.interpolate(
        tensor, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=False
    )[0].permute(1, 2, 0)
    resized = resized.numpy()
    if flip:
        boxes = np.stack([new_w - boxes[:, 2], boxes[:, 1], new_w - boxes[:, 0], boxes[:, 3]], 1)
        resized = resized[:, ::-1]
    labels = [a["category_id"] for a in data["annotations"] if a["image_id"] == image_id]
    return {"size": (new_h, new_w), "boxes": boxes, "image": resized, "category_ids": labels}


def _check(inputs, targets, expected, split, config):
    """One unbatched element against `_expected`."""
    new_h, new_w = expected["size"]
    assert inputs["image_shape"].tolist() == [new_h, new_w]
    image = inputs["images"]
    assert image.shape == (*config.canvas, 3)
    assert not image[new_h:].any() and not image[:, new_w:].any()
    pixels = image[:new_h, :new_w] * np.array(IMAGENET_STD) * 255 + np.array(IMAGENET_MEAN) * 255
    n = len(expected["boxes"])
    assert targets["labels"][n:].tolist() == [-1] * (config.max_boxes - n)
    assert not targets["boxes"][n:].any() and not targets["crowd"][n:].any()
    assert split.category_ids(targets["labels"][:n]).tolist() == expected["category_ids"]
    np.testing.assert_allclose(targets["boxes"][:n], expected["boxes"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(pixels, expected["image"], rtol=0, atol=2e-3)


def _order(seed, epoch, count):
    # The stream counts epochs in int64, and a stateless fold-in of an int32 differs.
    return epoch_order(seed, tf.constant(epoch, tf.int64), count).numpy()


def _elements(dataset, count):
    """`count` elements of a batch-size-1 dataset, unbatched to NumPy."""
    items = []
    for inputs, targets in dataset.take(count):
        items.append(
            (
                {k: v.numpy()[0] for k, v in inputs.items()},
                {k: v.numpy()[0] for k, v in targets.items()},
            )
        )
    return items


@pytest.mark.parametrize("flip", [0.0, 1.0])
def test_training_boxes_and_pixels_equal_numpy_from_the_json(sample, flip):
    folder, config, data = sample
    config = dataclasses.replace(config, flip=flip)
    split = DetectionReader(config, folder).split(training=True)
    elements = _elements(training_dataset(split, config, batch_size=1, seed=5), len(split))
    order = _order(5, 0, len(split))
    for (inputs, targets), index in zip(elements, order):
        expected = _expected(data, folder, int(split.image_ids[index]), config, flip == 1.0)
        _check(inputs, targets, expected, split, config)


def test_resize_keeps_the_aspect_and_the_size_rule():
    config = DetectionDataConfig()
    rng = np.random.default_rng(0)
    sizes = rng.integers(20, 3000, size=(200, 2))
    heights, widths = resized_size(sizes[:, 0], sizes[:, 1], config)
    for (h, w), new_h, new_w in zip(sizes, heights.numpy(), widths.numpy()):
        scale = min(800 / min(h, w), 1333 / max(h, w))
        assert (new_h, new_w) == (int(h * scale + 0.5), int(w * scale + 0.5))
        assert min(new_h, new_w) <= 800 and max(new_h, new_w) <= 1333
        assert min(new_h, new_w) == 800 or max(new_h, new_w) == 1333
        assert abs(new_w / new_h - w / h) <= (w / h) * (
            1 / min(new_h, new_w) + 1 / max(new_h, new_w)
        )
    # A landscape canvas scales portrait images down until they fit it.
    flat = DetectionDataConfig(pad_shape=(800, 1344))
    assert [int(s) for s in resized_size(640, 480, flat)] == [800, 600]
    assert [int(s) for s in resized_size(480, 640, flat)] == [800, 1067]


def test_flips_follow_the_example_key(persons):
    folder, config, reader = persons
    with open(folder / "test_coco.json") as f:
        data = json.load(f)
    split = reader.split(training=True)
    epochs = 4
    elements = _elements(training_dataset(split, config, batch_size=1, seed=1), 4 * epochs)
    flips = {}
    for position, (inputs, targets) in enumerate(elements):
        epoch = position // len(split)
        index = int(_order(1, epoch, len(split))[position % len(split)])
        image_id = int(split.image_ids[index])
        plain = _expected(data, folder, image_id, config, False)
        mirrored = _expected(data, folder, image_id, config, True)
        n = len(plain["boxes"])
        flipped = np.allclose(targets["boxes"][:n], mirrored["boxes"], atol=1e-3)
        _check(inputs, targets, mirrored if flipped else plain, split, config)
        flips.setdefault(index, []).append(flipped)
    # The same key (seed, epoch, index) gives the same flip; other epochs draw again.
    again = _elements(training_dataset(split, config, batch_size=1, seed=1), 4 * epochs)
    for (_, first), (_, second) in zip(elements, again):
        np.testing.assert_array_equal(first["boxes"], second["boxes"])
    assert any(len(set(draws)) == 2 for draws in flips.values())
    assert 0 < sum(sum(draws) for draws in flips.values()) < 4 * epochs


def _batches(dataset, count):
    return [tf.nest.map_structure(lambda t: t.numpy(), b) for b in dataset.take(count)]


def _assert_same(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        tf.nest.map_structure(np.testing.assert_array_equal, a, b)


def test_two_builds_are_identical_and_resuming_skips_to_the_same_batches(persons):
    _, config, reader = persons
    split = reader.split(training=True)
    stream = _batches(training_dataset(split, config, batch_size=2, seed=7), 6)
    assert stream[0][0]["images"].shape == (2, 224, 224, 3)
    _assert_same(stream, _batches(training_dataset(split, config, batch_size=2, seed=7), 6))
    resumed = training_dataset(split, config, batch_size=2, seed=7).skip(3)
    _assert_same(stream[3:], _batches(resumed, 3))
    other = _batches(training_dataset(split, config, batch_size=2, seed=8), 6)
    assert any(not np.array_equal(a[1]["boxes"], b[1]["boxes"]) for a, b in zip(stream, other))


def test_two_input_pipelines_partition_each_epoch(persons):
    _, config, reader = persons
    split = reader.split(training=True)
    whole = _batches(training_dataset(split, config, batch_size=1, seed=2), 8)
    shards = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline)
        dataset = training_dataset(split, config, batch_size=1, seed=2, input_context=context)
        shards.append(_batches(dataset, 4))
    _assert_same(shards[0], whole[0::2])
    _assert_same(shards[1], whole[1::2])
    # The four sample images differ in resized size: each epoch's halves hold all four once.
    for epoch in range(2):
        halves = shards[0][2 * epoch : 2 * epoch + 2] + shards[1][2 * epoch : 2 * epoch + 2]
        sizes = {tuple(inputs["image_shape"][0]) for inputs, _ in halves}
        assert sizes == {(128, 193), (128, 192), (128, 191), (128, 209)}


def test_evaluation_runs_in_order_and_maps_boxes_back_to_the_original(sample):
    folder, config, data = sample
    config = dataclasses.replace(config, flip=1.0)  # never applies in evaluation
    split = DetectionReader(config, folder).split(training=False)
    batches = _batches(evaluation_dataset(split, config, batch_size=2), 10)
    assert sum(len(targets["image_id"]) for _, targets in batches) == len(data["images"])
    image_ids = np.concatenate([targets["image_id"] for _, targets in batches])
    assert image_ids.tolist() == [image["id"] for image in data["images"]]
    for inputs, targets in batches:
        for row, image_id in enumerate(targets["image_id"]):
            expected = _expected(data, folder, int(image_id), config, False)
            _check(
                {k: v[row] for k, v in inputs.items()},
                {k: targets[k][row] for k in ("boxes", "labels", "crowd")},
                expected,
                split,
                config,
            )
        original = boxes_to_original(
            targets["boxes"], targets["scale_factor"], targets["original_shape"]
        )
        for row, image_id in enumerate(targets["image_id"]):
            image = next(i for i in data["images"] if i["id"] == image_id)
            assert targets["original_shape"][row].tolist() == [image["height"], image["width"]]
            boxes = split.targets(list(split.image_ids).index(image_id))["boxes"]
            clipped = np.clip(boxes, 0, [image["width"], image["height"]] * 2)
            np.testing.assert_allclose(original[row, : len(boxes)], clipped, rtol=0, atol=1e-3)


def _beside(config, images):
    """`config` reading `boxes.json` of the data directory and the images in `images`."""
    return dataclasses.replace(
        config,
        train_annotations="boxes.json",
        eval_annotations="boxes.json",
        train_images=str(images),
        eval_images=str(images),
    )


def test_crowd_rows_and_images_without_boxes(tmp_path, persons):
    folder, config, _ = persons
    with open(folder / "test_coco.json") as f:
        data = json.load(f)
    data["annotations"][2]["iscrowd"] = 1
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] != 785]
    with open(tmp_path / "boxes.json", "w") as f:
        json.dump(data, f)
    config = dataclasses.replace(_beside(config, folder), keep_empty_images=True)
    split = DetectionReader(config, tmp_path).split(training=True)
    (inputs, targets), *_ = _batches(evaluation_dataset(split, config, batch_size=4), 1)
    assert targets["image_id"].tolist() == [785, 40083, 196141, 197388]
    assert (targets["labels"][0] == -1).all() and not targets["boxes"][0].any()
    assert inputs["image_shape"][0].tolist() == [128, 193]
    assert targets["crowd"][1].tolist() == [False, True] + [False] * 98
    assert not targets["crowd"][2:].any()


def test_too_many_boxes_and_missing_images_are_named(tmp_path, persons):
    folder, config, reader = persons
    split = reader.split(training=True)
    with pytest.raises(ValueError, match=r"000000196141\.jpg' has 5 boxes.*max_boxes=4"):
        training_dataset(split, dataclasses.replace(config, max_boxes=4), batch_size=1)

    with open(folder / "test_coco.json") as f:
        data = json.load(f)
    data["images"][1]["file_name"] = "gone.jpg"
    with open(tmp_path / "boxes.json", "w") as f:
        json.dump(data, f)
    config = _beside(config, folder)
    split = DetectionReader(config, tmp_path).split(training=False)
    with pytest.raises(tf.errors.OpError, match=r"gone\.jpg"):
        _batches(evaluation_dataset(split, config, batch_size=1), 4)


def test_a_landscape_canvas_scales_portrait_images_down_to_fit(tmp_path, persons):
    folder, config, _ = persons
    with open(folder / "test_coco.json") as f:
        data = json.load(f)
    # Image 785 (425 x 640) turned to portrait: pixels and boxes transposed.
    pixels = np.asarray(Image.open(folder / "000000000785.jpg").convert("RGB"))
    Image.fromarray(pixels.transpose(1, 0, 2).copy()).save(tmp_path / "portrait.png")
    data["images"] = [{"id": 1, "file_name": "portrait.png", "height": 640, "width": 425}]
    data["annotations"] = [{**data["annotations"][0], "image_id": 1}]
    x, y, w, h = data["annotations"][0]["bbox"]
    data["annotations"][0]["bbox"] = [y, x, h, w]
    with open(tmp_path / "boxes.json", "w") as f:
        json.dump(data, f)
    config = dataclasses.replace(_beside(config, tmp_path), pad_shape=(128, 224))
    split = DetectionReader(config, tmp_path).split(training=False)
    (inputs, targets), *_ = _batches(evaluation_dataset(split, config, batch_size=1), 1)
    # The short side would be 128 and the long 193; the canvas allows a height of 128.
    assert inputs["images"].shape == (1, 128, 224, 3)
    assert inputs["image_shape"][0].tolist() == [128, 85]
    np.testing.assert_allclose(targets["scale_factor"][0], [128 / 640, 85 / 425], rtol=1e-6)
    expected = np.array([[y, x, y + h, x + w]]) * [85 / 425, 0.2, 85 / 425, 0.2]
    np.testing.assert_allclose(targets["boxes"][0, :1], expected, atol=1e-3)


def test_canvas_is_a_multiple_of_the_divisor_and_holds_both_orientations():
    config = DetectionDataConfig()
    assert config.canvas == (math.ceil(1333 / 32) * 32,) * 2
    for h, w in ((480, 640), (640, 480), (100, 2000)):
        new_h, new_w = (int(s) for s in resized_size(h, w, config))
        assert new_h <= config.canvas[0] and new_w <= config.canvas[1]
