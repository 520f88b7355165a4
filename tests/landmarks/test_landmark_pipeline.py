import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hrnet_keras.landmarks import CropOptions, LandmarkDecoder, face_dataset, flip_permutation
from hrnet_keras.landmarks.geometry import crop_to_heatmap, crop_to_image, heatmap_to_crop
from hrnet_keras.landmarks.pipeline import crop_face, face_tensors

DATASETS = ["wflw", "300w", "cofw", "aflw"]


def _bilinear(image, points):
    """Bilinear samples of `image` (H, W, C) at `points` (K, 2), pixel centres at integers."""
    image = np.asarray(image, np.float64)
    x, y = points[:, 0], points[:, 1]
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]

    def at(yy, xx):
        return image[np.clip(yy, 0, image.shape[0] - 1), np.clip(xx, 0, image.shape[1] - 1)]

    top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
    bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
    return top * (1 - fy) + bottom * fy


def _face_dict(face):
    return {key: value[0] for key, value in face_tensors([face]).items()}


def _inside(points, size, margin=2):
    return np.all((points >= margin) & (points <= size - 1 - margin), axis=1)


@pytest.mark.parametrize("dataset", DATASETS)
def test_crop_puts_each_landmark_on_its_pixels(sample_faces, dataset):
    for face in sample_faces(dataset):
        crop, points = crop_face(_face_dict(face), CropOptions())
        crop, points = crop.numpy(), points.numpy()
        image = np.asarray(Image.open(face.image).convert("RGB"))
        inside = _inside(points, 256)
        assert inside.mean() > 0.9  # the x1.25 box holds the face
        # The crop magnifies or shrinks, so compare at the landmarks themselves.
        diff = np.abs(_bilinear(crop, points[inside]) - _bilinear(image, face.landmarks[inside]))
        zoom = 256 / (face.scale * 250)
        assert diff.mean() < (6.0 if zoom > 0.5 else 12.0), (face.source, diff.mean())
        # Back through the inverse transform.
        back = crop_to_image(points, face.center, face.scale)
        np.testing.assert_allclose(back, face.landmarks, atol=1e-2)


@pytest.mark.parametrize("dataset", DATASETS)
def test_flip_augmentation_relabels_with_the_pairs(sample_faces, dataset):
    options = CropOptions(flip_probability=1.0, rotation_probability=1.0)
    permutation = flip_permutation({"wflw": 98, "300w": 68, "cofw": 29, "aflw": 19}[dataset])
    face = sample_faces(dataset)[0]
    crop, points = crop_face(_face_dict(face), options, seed=tf.constant([3, 4]))
    crop, points = crop.numpy(), points.numpy()
    image = np.asarray(Image.open(face.image).convert("RGB"))
    inside = _inside(points, 256)
    # The flipped face's landmark i is the original landmark permutation[i].
    source = face.landmarks[permutation]
    diff = np.abs(_bilinear(crop, points[inside]) - _bilinear(image, source[inside]))
    assert diff.mean() < 12.0, diff.mean()
    unflipped = np.abs(_bilinear(crop, points[inside]) - _bilinear(image, face.landmarks[inside]))
    assert np.mean(unflipped) > diff.mean() or np.array_equal(
        permutation, np.arange(len(permutation))
    )


def test_heatmap_targets_decode_back(sample_faces):
    faces = sample_faces("wflw")
    x, heatmaps = next(iter(face_dataset(faces, CropOptions(), training=False, batch_size=4)))
    assert x.shape == (4, 256, 256, 3) and heatmaps.shape == (4, 64, 64, 98)
    assert float(tf.reduce_max(heatmaps)) == 1.0
    expected = np.stack([crop_face(_face_dict(f), CropOptions())[1].numpy() for f in faces])
    decoded = np.asarray(LandmarkDecoder()(heatmaps))
    # The targets' centres are rounded to cells; the decoder adds a quarter cell.
    assert np.abs(crop_to_heatmap(decoded) - crop_to_heatmap(expected)).max() <= 0.75 + 1e-4
    np.testing.assert_allclose(heatmap_to_crop(crop_to_heatmap(expected)), expected, atol=1e-4)


def test_flipped_prediction_maps_back(sample_faces):
    """An oracle's heatmaps of a face and of its mirror image decode to the same points."""
    face = sample_faces("300w")[0]
    options = CropOptions(sigma=1.0)
    plain = next(iter(face_dataset([face], options, training=False, batch_size=1)))[1]
    flipped = CropOptions(
        sigma=1.0, scale_range=(1.0, 1.0), rotation_probability=0.0, flip_probability=1.0
    )
    mirror = next(iter(face_dataset([face], flipped, training=True, batch_size=1)))[1]
    points = np.asarray(LandmarkDecoder()(plain))[0]
    mirrored = np.asarray(LandmarkDecoder()(mirror))[0]
    back = mirrored[flip_permutation(68)]
    back[:, 0] = 255 - back[:, 0]
    # Rounded targets: the two decodings may differ by the rounding of one cell.
    assert np.abs(back - points).max() <= 4 * 1.0 + 1e-4
    assert np.abs(back - points).mean() < 1.0


def test_training_pipeline_is_deterministic_and_sharded(sample_faces):
    faces = sample_faces("wflw")
    options = CropOptions()

    def first_batches(seed):
        ds = face_dataset(faces, options, training=True, batch_size=2, seed=seed)
        return [x.numpy() for x, _ in ds.take(3)]

    a, b, c = first_batches(7), first_batches(7), first_batches(8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not all(np.array_equal(u, w) for u, w in zip(a, c))
    shards = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline)
        ds = face_dataset(
            faces, options, training=False, batch_size=4, input_context=context, targets=False
        )
        shards.append(sorted(int(i) for batch in ds for i in batch["index"]))
    assert shards == [[0, 2], [1, 3]]


def test_crop_options_follow_the_config():
    from hrnet_keras.landmarks import LandmarkConfig

    options = LandmarkConfig("aflw").crop_options()
    assert dataclasses.astuple(options) == dataclasses.astuple(CropOptions(sigma=1.5))
    assert LandmarkConfig("300w").crop_options().sigma == 1.0
