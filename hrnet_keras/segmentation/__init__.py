"""Semantic segmentation with HRNetV2: dataset readers, data pipeline, loss, metrics, inference.

Example:
>>> from hrnet_keras.segmentation import SegmentationConfig
>>> SegmentationConfig(dataset="cityscapes", num_classes=19).ohem_min_kept
131072
"""

from hrnet_keras.data.normalization import ImageNormalization
from hrnet_keras.segmentation.config import SegmentationConfig
from hrnet_keras.segmentation.inference import Predictor
from hrnet_keras.segmentation.loss import SegmentationLoss
from hrnet_keras.segmentation.metrics import (
    SegmentationMeanIoU,
    confusion_matrix,
    segmentation_scores,
)
from hrnet_keras.segmentation.sample import demo_recipe, write_sample_dataset
from hrnet_keras.segmentation.task import SegmentationTask

__all__ = [
    "ImageNormalization",
    "Predictor",
    "SegmentationConfig",
    "SegmentationLoss",
    "SegmentationMeanIoU",
    "SegmentationTask",
    "confusion_matrix",
    "demo_recipe",
    "segmentation_scores",
    "write_sample_dataset",
]
