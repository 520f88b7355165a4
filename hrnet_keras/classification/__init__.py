"""Image classification with HRNet-Wx-C: readers of ImageNet's layouts, TFRecord shards and
class folder trees, the crop pipelines, top-k metrics, fine-tuning and the served graph.

Example:
>>> from hrnet_keras.classification import ClassificationConfig, imagenet_classes
>>> ClassificationConfig().eval_crop_pct, imagenet_classes().wnids[0]
(0.875, 'n01440764')
"""

from hrnet_keras.classification.config import ClassificationConfig
from hrnet_keras.classification.finetune import FreezeBackbone, load_pretrained
from hrnet_keras.classification.imagenet_classes import ImageNetClasses, imagenet_classes
from hrnet_keras.classification.keyed_augment import KeyedSeedGenerator, keyed_seeds
from hrnet_keras.classification.metrics import classification_scores
from hrnet_keras.classification.pipeline import evaluation_dataset, training_dataset
from hrnet_keras.classification.preprocessing import (
    evaluation_crop,
    random_resized_crop,
    resize_like_pil,
)
from hrnet_keras.classification.readers import (
    ClassificationFiles,
    ClassificationRecords,
    read_split,
)
from hrnet_keras.classification.serving import ClassifierServing, EvaluationCrop, TopKClasses
from hrnet_keras.classification.task import ClassificationTask

__all__ = [
    "ClassificationConfig",
    "ClassificationFiles",
    "ClassificationRecords",
    "ClassificationTask",
    "ClassifierServing",
    "EvaluationCrop",
    "FreezeBackbone",
    "ImageNetClasses",
    "KeyedSeedGenerator",
    "TopKClasses",
    "classification_scores",
    "evaluation_crop",
    "evaluation_dataset",
    "imagenet_classes",
    "keyed_seeds",
    "load_pretrained",
    "random_resized_crop",
    "read_split",
    "resize_like_pil",
    "training_dataset",
]
