"""What the classification readers return: image files with labels, or TFRecord shards."""

import dataclasses

import numpy as np


@dataclasses.dataclass
class ClassificationFiles:
    """The labelled image files of one split.

    Attributes:
        images: image paths.
        labels: int64 class indices, one per image.
        class_names: one name per class index.

    Example:
    >>> files = ClassificationFiles(["a.jpg", "b.jpg"], [1, 0], ("cat", "dog"))
    >>> len(files), files.num_classes, files.labels.dtype.name
    (2, 2, 'int64')
    """

    images: list
    labels: np.ndarray
    class_names: tuple

    def __post_init__(self):
        self.images = [str(path) for path in self.images]
        self.labels = np.asarray(self.labels, np.int64).reshape(-1)
        self.class_names = tuple(self.class_names)
        if len(self.images) != len(self.labels):
            raise ValueError(
                "Every image needs one label. "
                f"Received: images={len(self.images)}, labels={len(self.labels)}"
            )
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= self.num_classes):
            raise ValueError(
                f"Labels must be class indices 0..{self.num_classes - 1}. "
                f"Received: labels from {self.labels.min()} to {self.labels.max()}"
            )

    def __len__(self):
        return len(self.images)

    @property
    def num_classes(self):
        return len(self.class_names)

    def subset(self, indices):
        """The files at `indices` (in that order), with the same classes."""
        indices = np.asarray(indices, np.int64)
        return ClassificationFiles(
            [self.images[i] for i in indices], self.labels[indices], self.class_names
        )


@dataclasses.dataclass
class ClassificationRecords:
    """TFRecord shards of one split, in the `image/encoded` + `image/class/label` schema.

    Attributes:
        shards: the TFRecord files, sorted.
        class_names: one name per class index.
        label_offset: subtracted from the stored label to give the class index (1 for the
            TF-slim / Model Garden ImageNet shards, whose labels are 1..1000).
        count: records in the split, or None until counted.
    """

    shards: list
    class_names: tuple
    label_offset: int = 0
    count: int | None = None

    def __len__(self):
        if self.count is None:
            from hrnet_keras.classification.readers.tfrecord import count_records

            self.count = count_records(self.shards)
        return self.count

    @property
    def num_classes(self):
        return len(self.class_names)
