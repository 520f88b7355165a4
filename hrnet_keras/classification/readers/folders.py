"""Folder trees of images, one subfolder per class (`root/<class>/*.jpg`), and their splits.

A root holding `train/` and `val/` trees uses them as the splits; a single tree is split
deterministically, the same share of each class held out for evaluation.
"""

import os
import zlib

import numpy as np

from hrnet_keras.classification.readers.files import ClassificationFiles
from hrnet_keras.data.files import list_images


def class_folders(root):
    """The sorted names of the class subfolders of `root` (hidden folders are skipped).

    Example:
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name in ("dog", "cat", ".cache"):
    ...     os.makedirs(os.path.join(root, name))
    >>> class_folders(root)
    ['cat', 'dog']
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"The image folder {root!r} does not exist. Received: {root=}")
    names = sorted(
        name
        for name in os.listdir(root)
        if not name.startswith(".") and os.path.isdir(os.path.join(root, name))
    )
    if not names:
        raise ValueError(
            f"A class folder tree holds one subfolder of images per class; {root!r} has no "
            f"subfolder. Received: root={root!r}"
        )
    return names


def read_class_tree(root, class_names=None, class_index=None):
    """The images of `root/<class>/` with their class indices.

    Args:
        root: the tree's folder.
        class_names: the classes, in index order; default the tree's sorted subfolders.
            A subfolder that is not one of them is an error.
        class_index: `{folder name: class index}` when folders are not named as the
            classes are (ImageNet's WordNet-id folders); overrides `class_names`' indices.

    Returns:
        A `ClassificationFiles` (images in class, then file-name order).
    """
    root = os.fspath(root)
    folders = class_folders(root)
    if class_names is None:
        class_names = tuple(folders)
    if class_index is None:
        class_index = {name: index for index, name in enumerate(class_names)}
    images, labels = [], []
    for folder in folders:
        if folder not in class_index:
            raise ValueError(
                f"The folder {os.path.join(root, folder)!r} is not one of the "
                f"{len(class_index)} known classes. Received: class={folder!r}"
            )
        paths = list_images(os.path.join(root, folder))
        if not paths:
            raise ValueError(
                f"The class folder {os.path.join(root, folder)!r} holds no image "
                f"(.jpg, .jpeg, .png, .bmp). Received: class={folder!r}"
            )
        images += paths
        labels += [class_index[folder]] * len(paths)
    return ClassificationFiles(images, labels, class_names)


def holdout_split(files, fraction, seed=0):
    """`(kept, held_out)`: `round(fraction * n)` images of each class of `n` held out.

    The choice within a class depends on the seed, the class's name and its sorted files
    only, so adding another class leaves every other class's split as it was. A class of
    two or more images keeps at least one and, with `fraction > 0`, holds out at least one.

    Example:
    >>> files = ClassificationFiles([f"{i}.png" for i in range(20)], [0] * 10 + [1] * 10,
    ...                             ("a", "b"))
    >>> kept, held_out = holdout_split(files, 0.2)
    >>> len(kept), len(held_out), held_out.labels.tolist()
    (16, 4, [0, 0, 1, 1])
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"`holdout_fraction` must be in [0, 1). Received: fraction={fraction}")
    kept, held_out = [], []
    for label, name in enumerate(files.class_names):
        members = np.flatnonzero(files.labels == label)
        count = len(members)
        take = round(fraction * count)
        if count >= 2 and fraction > 0:
            take = min(max(take, 1), count - 1)
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        chosen = np.zeros(count, bool)
        chosen[rng.permutation(count)[:take]] = True
        kept += members[~chosen].tolist()
        held_out += members[chosen].tolist()
    return files.subset(sorted(kept)), files.subset(sorted(held_out))


def has_split_trees(data_dir, train_split, eval_split):
    """Whether `data_dir` holds `train_split/` and `eval_split/` trees."""
    return all(os.path.isdir(os.path.join(data_dir, s)) for s in (train_split, eval_split))


def read_folder_split(
    data_dir,
    split,
    *,
    train_split="train",
    eval_split="val",
    holdout_fraction=0.1,
    split_seed=0,
    class_names=None,
):
    """One split of a class folder tree.

    With `data_dir/train_split/` and `data_dir/eval_split/`, the split's own tree (classes
    from the training tree, sorted); otherwise `data_dir` is one tree, of which
    `holdout_fraction` of each class is `eval_split` and the rest `train_split`.

    Args:
        data_dir: the root.
        split: `train_split` or `eval_split`.
        class_names: the classes in index order; default the training tree's folders.

    Returns:
        A `ClassificationFiles`.
    """
    data_dir = os.fspath(data_dir)
    if split not in (train_split, eval_split):
        raise ValueError(
            f"A folder tree has the splits {train_split!r} and {eval_split!r}. "
            f"Received: split={split!r}"
        )
    if has_split_trees(data_dir, train_split, eval_split):
        if class_names is None:
            class_names = tuple(class_folders(os.path.join(data_dir, train_split)))
        return read_class_tree(os.path.join(data_dir, split), class_names)
    kept, held_out = holdout_split(
        read_class_tree(data_dir, class_names), holdout_fraction, split_seed
    )
    return kept if split == train_split else held_out


def folder_class_names(data_dir, train_split="train", eval_split="val"):
    """The classes of a folder tree: the sorted subfolders of its training tree."""
    if has_split_trees(data_dir, train_split, eval_split):
        return tuple(class_folders(os.path.join(data_dir, train_split)))
    return tuple(class_folders(data_dir))
