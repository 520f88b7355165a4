"""`LandmarkConfig`: the face-landmark task's part of a recipe."""

import dataclasses

from hrnet_keras.landmarks.datasets import dataset_info
from hrnet_keras.landmarks.pipeline import CropOptions


@dataclasses.dataclass
class LandmarkConfig:
    """Data, targets, augmentation and evaluation of a face-landmark recipe.

    Paths are relative to the `data_dir` given to train / evaluate.

    Attributes:
        dataset: `"wflw"`, `"300w"`, `"cofw"` or `"aflw"` (points, normaliser, flip pairs).
        train_annotations: the training annotation file (`.csv`, `.txt`, `.mat`, `.json`) or
            a folder of `.pts` files.
        eval_annotations: `{subset name: annotation file}` evaluated by `evaluate`; faces
            carrying WFLW attribute flags also give one subset per attribute.
        image_dir: the folder image names are relative to (`""`: the annotation's folder).
        sigma: Gaussian target sigma in heatmap pixels (None: the dataset's).
        input_size / crop_scale / scale_range / rotation / rotation_probability /
            flip_probability: see `CropOptions`.
        decoder: `"shift"` (the reference) or `"dark"`.

    Example:
    >>> config = LandmarkConfig("300w", "train.csv", {"full": "valid.csv"})
    >>> config.num_landmarks, config.crop_options().sigma
    (68, 1.0)
    """

    dataset: str = "wflw"
    train_annotations: str = ""
    eval_annotations: dict = dataclasses.field(default_factory=dict)
    image_dir: str = ""
    sigma: float | None = None
    input_size: int = 256
    crop_scale: float = 1.25
    scale_range: tuple = (0.75, 1.25)
    rotation: float = 30.0
    rotation_probability: float = 0.6
    flip_probability: float = 0.5
    decoder: str = "shift"

    @property
    def num_landmarks(self):
        return dataset_info(self.dataset).num_landmarks

    def crop_options(self):
        """The pipeline's `CropOptions`."""
        return CropOptions(
            input_size=self.input_size,
            crop_scale=self.crop_scale,
            sigma=dataset_info(self.dataset).sigma if self.sigma is None else self.sigma,
            scale_range=tuple(self.scale_range),
            rotation=self.rotation,
            rotation_probability=self.rotation_probability,
            flip_probability=self.flip_probability,
        )

    def build_task(self, recipe):
        """The `LandmarkTask` of `recipe`."""
        from hrnet_keras.landmarks.task import LandmarkTask

        return LandmarkTask(recipe)
