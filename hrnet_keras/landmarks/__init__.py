"""Facial landmarks: readers of WFLW, 300W, COFW and AFLW, the crop/heatmap pipeline,
decoding, the NME protocol and the `LandmarkTask` a recipe trains.

Example:
>>> from hrnet_keras.landmarks import LandmarkConfig, flip_permutation
>>> LandmarkConfig("wflw").num_landmarks, flip_permutation(98)[60].item()
(98, 72)
"""

from hrnet_keras.data.normalization import normalize
from hrnet_keras.landmarks.annotations import AnnotationError, FaceAnnotation
from hrnet_keras.landmarks.config import LandmarkConfig
from hrnet_keras.landmarks.datasets import DATASETS, LandmarkDataset, dataset_info
from hrnet_keras.landmarks.decoding import (
    LandmarkDecoder,
    decode_dark,
    decode_heatmaps,
    decode_shift,
)
from hrnet_keras.landmarks.geometry import (
    crop_matrix,
    crop_to_image,
    transform_points,
    warp_to_crop,
)
from hrnet_keras.landmarks.heatmaps import gaussian_heatmaps
from hrnet_keras.landmarks.metrics import auc, failure_rate, nme_per_face, normalisers, summarize
from hrnet_keras.landmarks.pairs import FLIP_PAIRS, flip_landmarks, flip_permutation
from hrnet_keras.landmarks.pipeline import CropOptions, face_dataset
from hrnet_keras.landmarks.readers import read_annotations
from hrnet_keras.landmarks.serving import landmark_serving_model

__all__ = [
    "DATASETS",
    "FLIP_PAIRS",
    "AnnotationError",
    "CropOptions",
    "FaceAnnotation",
    "LandmarkConfig",
    "LandmarkDataset",
    "LandmarkDecoder",
    "auc",
    "crop_matrix",
    "crop_to_image",
    "dataset_info",
    "decode_dark",
    "decode_heatmaps",
    "decode_shift",
    "face_dataset",
    "failure_rate",
    "flip_landmarks",
    "flip_permutation",
    "gaussian_heatmaps",
    "landmark_serving_model",
    "nme_per_face",
    "normalisers",
    "normalize",
    "read_annotations",
    "summarize",
    "transform_points",
    "warp_to_crop",
]
