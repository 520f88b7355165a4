"""Single-scale, multi-scale + flip and sliding-window prediction."""

import keras
import numpy as np
import pytest

from hrnet_keras.models import hrnetv2
from hrnet_keras.segmentation import Predictor


def _per_pixel_model(num_classes=5, seed=0):
    """Full-resolution logits that depend on each pixel alone: windows cannot change them."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, None, 3))
    return keras.Model(inputs, keras.layers.Conv2D(num_classes, 1)(inputs))


@pytest.fixture(scope="module")
def tiny_hrnet():
    keras.utils.set_random_seed(0)
    # The fewest layers of the published variants: eager calls cost per layer.
    return hrnetv2(width="18-small-v1", num_classes=6)


def _image(height=50, width=70, seed=0):
    return np.random.default_rng(seed).normal(size=(height, width, 3)).astype(np.float32)


def test_sliding_windows_cover_the_image_exactly():
    model = _per_pixel_model()
    image = _image()
    whole = Predictor(model).logits(image)
    for crop in ((16, 16), (24, 40), (50, 70), (64, 64)):
        windowed = Predictor(model, crop_size=crop, stride_ratio=2 / 3).logits(image)
        np.testing.assert_allclose(windowed, whole, rtol=1e-5, atol=1e-5)


def test_windows_as_large_as_the_image_are_the_whole_image(tiny_hrnet):
    image = _image(64, 96)
    whole = Predictor(tiny_hrnet).logits(image)
    same = Predictor(tiny_hrnet, crop_size=(64, 96)).logits(image)
    np.testing.assert_array_equal(same, whole)
    tiled = Predictor(tiny_hrnet, crop_size=(48, 64)).logits(image)
    assert tiled.shape == whole.shape and not np.allclose(tiled, whole)


def test_multi_scale_flip_returns_input_sized_logits(tiny_hrnet):
    image = _image(45, 61)
    predictor = Predictor(
        tiny_hrnet, scales=(0.5, 1.0, 1.5), flip=True, crop_size=(48, 64), base_size=None
    )
    logits = predictor.logits(image)
    assert logits.shape == (45, 61, 6) and np.isfinite(logits).all()
    assert predictor.labels(image).shape == (45, 61)
    # With a base size, scale 1 makes the long side `base_size`; logits still match the input.
    resized = Predictor(tiny_hrnet, scales=(1.0,), base_size=40).logits(image)
    assert resized.shape == (45, 61, 6)


def test_flipped_prediction_is_mirror_symmetric(tiny_hrnet):
    image = _image(32, 48)
    predictor = Predictor(tiny_hrnet, flip=True)
    np.testing.assert_allclose(
        predictor.logits(image[:, ::-1]), predictor.logits(image)[:, ::-1], atol=1e-4
    )


def test_flip_swaps_left_and_right_logits(tiny_hrnet):
    image = _image(32, 48)
    pairs = ((2, 3), (4, 5))
    predictor = Predictor(tiny_hrnet, flip=True, flip_pairs=pairs)
    mirrored = predictor.logits(image[:, ::-1])[:, ::-1]
    np.testing.assert_allclose(
        mirrored[..., [0, 1, 3, 2, 5, 4]], predictor.logits(image), atol=1e-4
    )
    single = Predictor(tiny_hrnet).logits
    expected = (single(image) + single(image[:, ::-1])[:, ::-1][..., [0, 1, 3, 2, 5, 4]]) / 2
    np.testing.assert_allclose(predictor.logits(image), expected, atol=1e-4)


def test_fixed_resize_returns_label_sized_logits(tiny_hrnet):
    logits = Predictor(tiny_hrnet, resize=(40, 40), flip=True).logits(_image(30, 70))
    assert logits.shape == (30, 70, 6)


def test_scales_resized_a_few_channels_at_a_time_sum_as_all_at_once(tiny_hrnet, monkeypatch):
    from hrnet_keras.segmentation import inference

    image = _image(45, 61)
    options = dict(scales=(0.75, 1.25), flip=True, crop_size=(48, 64))
    whole = Predictor(tiny_hrnet, **options).logits(image)
    # 2 channels of a 1.25x scale's logits per resize: 3 resizes for 6 classes.
    monkeypatch.setattr(inference, "CHANNEL_BYTES", 2 * 4 * 57 * 77)
    chunked = Predictor(tiny_hrnet, **options).logits(image)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-6)
