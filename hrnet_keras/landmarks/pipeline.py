"""The tf.data pipeline: read, crop (with augmentation when training), heatmap targets.

Every random draw is a stateless op keyed by (seed, epoch, index) of the example
(`hrnet_keras.data.random_keys`), so a pipeline gives the same batches on every run, whatever
the sharding, and a resumed run the batches of an uninterrupted one.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from hrnet_keras.data.images import load_image
from hrnet_keras.data.normalization import normalize
from hrnet_keras.data.random_keys import epoch_stream, example_key
from hrnet_keras.data.sharding import shard
from hrnet_keras.landmarks.geometry import (
    crop_matrix,
    crop_to_heatmap,
    transform_points,
    warp_to_crop,
)
from hrnet_keras.landmarks.heatmaps import gaussian_heatmaps
from hrnet_keras.landmarks.pairs import flip_permutation


@dataclasses.dataclass
class CropOptions:
    """How faces become model inputs and targets.

    Attributes:
        input_size: the square crop's side (256).
        stride: input pixels per heatmap pixel (4).
        crop_scale: margin around the face box (1.25).
        sigma: Gaussian target standard deviation in heatmap pixels.
        scale_range: training zoom factor range, U(0.75, 1.25).
        rotation: training rotation range in degrees, U(-30, 30)...
        rotation_probability: ...applied with this probability (0.6).
        flip_probability: horizontal flip probability (0.5), relabelling with the pairs.
    """

    input_size: int = 256
    stride: int = 4
    crop_scale: float = 1.25
    sigma: float = 1.5
    scale_range: tuple = (0.75, 1.25)
    rotation: float = 30.0
    rotation_probability: float = 0.6
    flip_probability: float = 0.5


def face_tensors(faces):
    """The faces' fields as arrays, one row per face: `image` (path or name), `encoded` (the
    image's bytes, or empty when `image` is a file), `landmarks`, `center`, `scale`."""
    return {
        "image": np.array([f.image for f in faces], dtype=object),
        "encoded": np.array([f.encoded or b"" for f in faces], dtype=object),
        "landmarks": np.stack([f.landmarks for f in faces]).astype(np.float32),
        "center": np.stack([f.center for f in faces]).astype(np.float32),
        "scale": np.array([f.scale for f in faces], dtype=np.float32),
    }


def augmentation(seed, options):
    """Zoom, rotation and flip drawn from a stateless `seed` `(2,)`.

    Example:
    >>> zoom, angle, flip = augmentation(tf.constant([0, 1]), CropOptions())
    >>> 0.75 <= float(zoom) <= 1.25 and -30 <= float(angle) <= 30
    True
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    uniform = tf.random.stateless_uniform
    low, high = options.scale_range
    zoom = uniform([], seeds[0], low, high)
    rotate = uniform([], seeds[1]) < options.rotation_probability
    angle = tf.where(rotate, uniform([], seeds[2], -options.rotation, options.rotation), 0.0)
    flip = uniform([], seeds[3]) < options.flip_probability
    return zoom, angle, flip


def crop_face(face, options, *, seed=None, num_landmarks=None):
    """One face (a dict of `face_tensors`' fields) as its 0..255 crop and crop landmarks.

    With `seed`, the crop is augmented (zoom, rotation, flip relabelled with the pairs).
    """
    image = load_image(face["image"], face["encoded"])
    zoom, angle, flip = tf.constant(1.0), tf.constant(0.0), tf.constant(False)
    if seed is not None:
        zoom, angle, flip = augmentation(seed, options)
    matrix = crop_matrix(
        face["center"],
        face["scale"] * zoom,
        output_size=options.input_size,
        crop_scale=options.crop_scale,
        rotation=angle,
        flip=flip,
    )
    crop = warp_to_crop(image, matrix, options.input_size)
    points = transform_points(matrix, face["landmarks"])
    if seed is not None:
        permutation = flip_permutation(num_landmarks or int(face["landmarks"].shape[0]))
        points = tf.where(flip, tf.gather(points, permutation), points)
    return crop, points


def face_dataset(faces, options, *, training, batch_size, seed=0, input_context=None, targets=True):
    """Batches of `(normalised crops, heatmaps)` (or `{"crop", "index"}` with `targets=False`).

    Args:
        faces: `FaceAnnotation`s.
        options: `CropOptions`.
        training: an endless stream of epochs, each a permutation, augmented with keys of
            (seed, epoch, index) (`hrnet_keras.data.random_keys`).
        batch_size: per replica when `input_context` is given.
        seed: the pipeline's seed.
        input_context: a `tf.distribute.InputContext`; each input pipeline reads its shard.
        targets: False for evaluation / calibration batches of raw 0..255 crops with the
            faces' indices, in file order.
    """
    num_landmarks = int(faces[0].landmarks.shape[0])
    heatmap_size = options.input_size // options.stride
    data = face_tensors(faces)
    data = {name: tf.constant(values) for name, values in data.items()}

    def load(index, key):
        face = {name: values[index] for name, values in data.items()}
        crop, points = crop_face(face, options, seed=key, num_landmarks=num_landmarks)
        if not targets:
            return {"crop": crop, "index": index}
        points = crop_to_heatmap(points, options.stride)
        heatmaps = gaussian_heatmaps(points, heatmap_size, options.sigma)
        return normalize(crop), heatmaps

    if training:
        dataset = shard(epoch_stream(len(faces), seed), input_context)
        dataset = dataset.map(
            lambda epoch, index: load(index, example_key(seed, epoch, index)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    else:
        dataset = shard(tf.data.Dataset.range(len(faces)), input_context)
        dataset = dataset.map(
            lambda index: load(index, None), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )
    dataset = dataset.batch(batch_size, drop_remainder=training)
    return dataset.prefetch(tf.data.AUTOTUNE)
