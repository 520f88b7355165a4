"""The ILSVRC2012 (ImageNet-1k) class table, shipped as `imagenet_synsets.txt`.

The standard class index (torchvision's `ImageFolder`, timm, the official HRNet code, every
published ImageNet checkpoint) is the position of a class's WordNet id in sorted order:
class 0 is n01440764 (tench). The devkit numbers the same classes differently:
`ILSVRC2012_ID` 1..1000 in the order of its `meta.mat`, which
`ILSVRC2012_validation_ground_truth.txt` uses (ID 1 is n02119789, kit fox).
"""

import dataclasses
import functools
import importlib.resources

import numpy as np

NUM_IMAGENET_CLASSES = 1000


@dataclasses.dataclass(frozen=True)
class ImageNetClasses:
    """The 1000 classes in index order.

    Attributes:
        wnids: WordNet ids, sorted (the class index order).
        devkit_ids: each class's `ILSVRC2012_ID` (1..1000).
        names: short unique names (`"kit_fox"`, `"crane_bird"`, `"crane"`).
    """

    wnids: tuple
    devkit_ids: tuple
    names: tuple

    def index_of_devkit_id(self):
        """A table `t` with `t[ILSVRC2012_ID] = class index` (`t[0] = -1`)."""
        table = np.full(NUM_IMAGENET_CLASSES + 1, -1, np.int64)
        table[list(self.devkit_ids)] = np.arange(NUM_IMAGENET_CLASSES)
        return table

    def index_of_wnid(self):
        """`{wnid: class index}`."""
        return {wnid: index for index, wnid in enumerate(self.wnids)}


@functools.cache
def imagenet_classes():
    """The `ImageNetClasses` table (read once).

    Example:
    >>> classes = imagenet_classes()
    >>> classes.wnids[0], classes.names[0], classes.devkit_ids[0]
    ('n01440764', 'tench', 449)
    >>> int(classes.index_of_devkit_id()[1]), classes.wnids[int(classes.index_of_devkit_id()[1])]
    (278, 'n02119789')
    """
    text = importlib.resources.files(__package__).joinpath("imagenet_synsets.txt").read_text()
    rows = [line.split() for line in text.splitlines() if line and not line.startswith("#")]
    wnids, ids, names = zip(*((w, int(i), n) for w, i, n in rows))
    if len(wnids) != NUM_IMAGENET_CLASSES or list(wnids) != sorted(set(wnids)):
        raise ValueError(
            "imagenet_synsets.txt must list 1000 distinct WordNet ids in sorted order."
        )
    if sorted(ids) != list(range(1, NUM_IMAGENET_CLASSES + 1)) or len(set(names)) != len(names):
        raise ValueError("imagenet_synsets.txt must number the classes 1..1000 with unique names.")
    return ImageNetClasses(wnids, ids, names)
