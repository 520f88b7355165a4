"""`SegmentationFiles`: what a dataset reader returns, and the checks every reader shares."""

import dataclasses
import os

import numpy as np

from hrnet_keras.data.files import require_file


@dataclasses.dataclass
class SegmentationFiles:
    """The image / mask pairs of one split, and how mask values become train ids.

    Attributes:
        images: image paths.
        labels: mask paths, one per image (None for an unlabelled split).
        label_lut: 256 entries mapping a stored mask value to its train id (255 = ignore),
            or None when stored values already are train ids.
        class_names: one name per train id.
        flip_pairs: train-id pairs that swap under a horizontal flip (left/right parts).

    Example:
    >>> files = SegmentationFiles(["a.jpg"], ["a.png"], class_names=("bg", "fg"))
    >>> len(files), files.num_classes
    (1, 2)
    """

    images: list
    labels: list | None
    label_lut: np.ndarray | None = None
    class_names: tuple = ()
    flip_pairs: tuple = ()

    def __len__(self):
        return len(self.images)

    @property
    def num_classes(self):
        return len(self.class_names)


def lookup_table(mapping, ignore_label=255):
    """A 256-entry uint8 table from `{stored value: train id}`; unlisted values are ignored.

    Example:
    >>> lut = lookup_table({7: 0, 8: 1})
    >>> int(lut[7]), int(lut[8]), int(lut[0])
    (0, 1, 255)
    """
    lut = np.full(256, ignore_label, dtype=np.uint8)
    for stored, train_id in mapping.items():
        if not 0 <= int(stored) < 256:
            continue
        lut[int(stored)] = train_id
    return lut


def dataset_root(data_dir, marker, subfolder):
    """`data_dir` itself, or `data_dir/subfolder`, whichever holds `marker`.

    The official code roots every dataset at `data/` (`data/cityscapes/...`); users often
    point at the dataset folder itself. Both work.
    """
    data_dir = os.fspath(data_dir)
    for root in (data_dir, os.path.join(data_dir, subfolder)):
        if os.path.exists(os.path.join(root, marker)):
            return root
    raise FileNotFoundError(
        f"Expected `{marker}` in the dataset folder or in its `{subfolder}/` subfolder. "
        f"Received: data_dir={data_dir!r}"
    )


def read_id_list(path):
    """Non-empty stripped lines of a split list; the first field of each (`id [label]`)."""
    with open(require_file(path, "split list")) as f:
        return [line.split()[0] for line in f if line.strip()]
