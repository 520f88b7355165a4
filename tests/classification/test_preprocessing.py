"""The crops of classification against torchvision on PIL images, the code the official HRNet
classifiers and timm train and evaluate with."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hrnet_keras.classification.preprocessing import (
    evaluation_crop,
    random_crop_box,
    random_resized_crop,
    resize_like_pil,
)

torchvision = pytest.importorskip("torchvision")


def _photos(shared_data):
    paths = sorted((shared_data / "coco_voc" / "JPEGImages").glob("*.jpg"))
    paths += sorted((shared_data / "coco_persons").glob("*.jpg"))
    return [np.asarray(Image.open(p).convert("RGB")) for p in paths]


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
@pytest.mark.parametrize("scale", [0.37, 0.61, 1.7])
def test_resize_matches_pil_on_real_photos(shared_data, interpolation, scale):
    pil_filter = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[interpolation]
    for photo in _photos(shared_data)[:3]:
        size = (round(photo.shape[0] * scale), round(photo.shape[1] * scale * 0.9))
        expected = np.asarray(Image.fromarray(photo).resize(size[::-1], pil_filter), np.float32)
        got = resize_like_pil(photo, size, interpolation).numpy()
        differ = got != expected
        # PIL's fixed-point weights round a few pixels the other way: by one grey level
        # (two where bicubic enlarges, its overshoot clipped after the rounding).
        limit = 2 if interpolation == "bicubic" and scale > 1 else 1
        assert np.abs(got - expected).max() <= limit and differ.mean() < 0.01, differ.mean()


def test_evaluation_crop_is_resize_256_center_crop_224(shared_data):
    transform = torchvision.transforms.Compose(
        [torchvision.transforms.Resize(256), torchvision.transforms.CenterCrop(224)]
    )
    for photo in _photos(shared_data):
        expected = np.asarray(transform(Image.fromarray(photo)), np.float32)
        got = evaluation_crop(photo).numpy()
        assert got.shape == (224, 224, 3)
        assert np.abs(got - expected).max() <= 1 and (got != expected).mean() < 0.005
    # Portrait images, odd margins (torchvision rounds the offset half to even), a batch.
    portrait = np.ascontiguousarray(_photos(shared_data)[0].transpose(1, 0, 2)[:, :301])
    expected = np.asarray(transform(Image.fromarray(portrait)), np.float32)
    got = evaluation_crop(np.stack([portrait, portrait])).numpy()
    assert got.shape == (2, 224, 224, 3)
    assert np.abs(got[1] - expected).max() <= 1 and (got[1] != expected).mean() < 0.02


def _boxes(height, width, count, scale=(0.08, 1.0)):
    draw = tf.function(lambda key: tf.stack(random_crop_box(key, height, width, scale)))
    keys = tf.random.experimental.stateless_split(tf.constant([0, 7], tf.int64), count)
    return np.stack([draw(key).numpy() for key in keys])


def test_random_crop_boxes_follow_torchvisions_distribution():
    torch = pytest.importorskip("torch")
    height, width, count = 200, 300, 1500
    image = torch.zeros(3, height, width)
    torch.manual_seed(0)
    reference = np.array(
        [
            torchvision.transforms.RandomResizedCrop.get_params(image, (0.08, 1.0), (3 / 4, 4 / 3))
            for _ in range(count)
        ]
    )
    ours = _boxes(height, width, count)
    for boxes in (reference, ours):
        top, left, h, w = boxes.T
        assert (top >= 0).all() and (left >= 0).all()
        assert (top + h <= height).all() and (left + w <= width).all()

    def summary(boxes):
        _, left, h, w = boxes.T.astype(float)
        area = h * w / (height * width)
        aspect = np.log(w / h)
        centre = (left + w / 2) / width
        return np.array(
            [
                area.mean(),
                *np.quantile(area, [0.1, 0.5, 0.9]),
                aspect.mean(),
                aspect.std(),
                centre.mean(),
                centre.std(),
            ]
        )

    # Sampling noise of 1500 boxes: about 0.01 on each of these statistics.
    np.testing.assert_allclose(summary(ours), summary(reference), atol=0.03)


def test_random_crop_falls_back_to_the_centre_as_torchvision():
    torch = pytest.importorskip("torch")
    image = torch.zeros(3, 50, 1000)  # no box of 90-100% of the area fits 3/4..4/3
    expected = torchvision.transforms.RandomResizedCrop.get_params(
        image, (0.9, 1.0), (3 / 4, 4 / 3)
    )
    assert tuple(_boxes(50, 1000, 3, scale=(0.9, 1.0))[0]) == tuple(expected) == (0, 466, 50, 67)


def test_random_resized_crop_is_a_function_of_the_key(shared_data):
    photo = _photos(shared_data)[0]
    key = tf.constant([3, 9], tf.int64)
    first = random_resized_crop(photo, key, 64).numpy()
    np.testing.assert_array_equal(first, random_resized_crop(photo, key, 64).numpy())
    other = random_resized_crop(photo, tf.constant([3, 10], tf.int64), 64).numpy()
    assert first.shape == (64, 64, 3) and not np.array_equal(first, other)
