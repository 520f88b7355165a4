"""The tf.data pipeline: read, crop (with augmentation when training), heatmap targets.

Every random draw is a stateless op seeded from `(seed, pipeline, element counter)`, so a
pipeline gives the same batches on every run and on resumption.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from hrnet_keras.landmarks.geometry import (
    crop_matrix,
    crop_to_heatmap,
    transform_points,
    warp_to_crop,
)
from hrnet_keras.landmarks.heatmaps import gaussian_heatmaps
from hrnet_keras.landmarks.pairs import flip_permutation

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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


def normalize(crops):
    """RGB 0..255 crops to the network's input: `/255`, ImageNet mean and std.

    Example:
    >>> np.round(normalize(tf.fill((1, 1, 3), 255.0)).numpy().astype(float), 3).ravel().tolist()
    [2.249, 2.429, 2.64]
    """
    crops = tf.cast(crops, tf.float32) / 255.0
    return (crops - tf.constant(IMAGENET_MEAN)) / tf.constant(IMAGENET_STD)


def face_tensors(faces):
    """The faces' fields as arrays that `tf.data.Dataset.from_tensor_slices` can slice."""
    return {
        "image": np.array(
            [f.encoded if f.encoded is not None else f.image for f in faces], dtype=object
        ),
        "encoded": np.array([f.encoded is not None for f in faces]),
        "landmarks": np.stack([f.landmarks for f in faces]).astype(np.float32),
        "center": np.stack([f.center for f in faces]).astype(np.float32),
        "scale": np.array([f.scale for f in faces], dtype=np.float32),
    }


def _decode(image, encoded):
    contents = tf.cond(encoded, lambda: image, lambda: tf.io.read_file(image))
    return tf.io.decode_image(contents, channels=3, expand_animations=False)


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
    image = _decode(face["image"], face["encoded"])
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
        training: shuffle, repeat and augment (deterministically from `seed`).
        batch_size: per replica when `input_context` is given.
        seed: the pipeline's seed.
        input_context: a `tf.distribute.InputContext`; each input pipeline reads its shard.
        targets: False for evaluation / calibration batches of raw 0..255 crops with the
            faces' indices, in file order.
    """
    num_landmarks = int(faces[0].landmarks.shape[0])
    heatmap_size = options.input_size // options.stride
    data = face_tensors(faces)
    data["index"] = np.arange(len(faces), dtype=np.int64)
    dataset = tf.data.Dataset.from_tensor_slices(data)
    pipeline = 0
    if input_context is not None and input_context.num_input_pipelines > 1:
        pipeline = input_context.input_pipeline_id
        dataset = dataset.shard(input_context.num_input_pipelines, pipeline)
    if training:
        dataset = dataset.shuffle(len(faces), seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.enumerate()

    def load(counter, face):
        element_seed = tf.stack([tf.cast(seed, tf.int64) * 1009 + pipeline, counter])
        crop, points = crop_face(
            face, options, seed=element_seed if training else None, num_landmarks=num_landmarks
        )
        if not targets:
            return {"crop": crop, "index": face["index"]}
        points = crop_to_heatmap(points, options.stride)
        heatmaps = gaussian_heatmaps(points, heatmap_size, options.sigma)
        return normalize(crop), heatmaps

    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.batch(batch_size, drop_remainder=training)
    return dataset.prefetch(tf.data.AUTOTUNE)
