"""The ImageNet (ILSVRC2012) folder layouts.

Supported, under the dataset root (or under `ILSVRC/Data/CLS-LOC/`, Kaggle's layout):

- `train/<wnid>/*.JPEG`, the 1000 WordNet-id folders (a subset reads too);
- `val/<wnid>/*.JPEG` (validation images sorted into class folders), or
- `val/*.JPEG` flat, with one of these label files in `val/`, the root, the folder above
  `ILSVRC/` or a devkit's `ILSVRC2012_devkit_t12/data/` (the first found, in this order):
  - `ILSVRC2012_validation_ground_truth.txt` (the devkit's): line i is the `ILSVRC2012_ID`
    (1..1000, the devkit's numbering, not the class index) of `ILSVRC2012_val_{i:08d}.JPEG`;
  - `LOC_val_solution.csv` (Kaggle's): `ImageId,PredictionString` rows whose prediction
    string starts with the WordNet id;
  - `val_labels.txt`: `<file name> <label>` lines, the label a WordNet id or a class index
    (0..999, sorted-wnid order, as Caffe's `val.txt`).

Labels are the standard class indices (`imagenet_classes().wnids` order).
"""

import csv
import os

from hrnet_keras.classification.imagenet_classes import imagenet_classes
from hrnet_keras.classification.readers.files import ClassificationFiles
from hrnet_keras.classification.readers.folders import class_folders, read_class_tree
from hrnet_keras.data.files import list_images

GROUND_TRUTH = "ILSVRC2012_validation_ground_truth.txt"
KAGGLE_SOLUTION = "LOC_val_solution.csv"
VAL_LABELS = "val_labels.txt"
LABEL_FILES = (GROUND_TRUTH, KAGGLE_SOLUTION, VAL_LABELS)
KAGGLE_ROOT = os.path.join("ILSVRC", "Data", "CLS-LOC")
DEVKIT_DATA = os.path.join("ILSVRC2012_devkit_t12", "data")


def imagenet_root(data_dir, split):
    """The folder holding `split/`: `data_dir` itself or its `ILSVRC/Data/CLS-LOC/`."""
    data_dir = os.fspath(data_dir)
    for root in (data_dir, os.path.join(data_dir, KAGGLE_ROOT)):
        if os.path.isdir(os.path.join(root, split)):
            return root
    raise FileNotFoundError(
        f"Expected an ImageNet `{split}/` folder in {data_dir!r} or in its {KAGGLE_ROOT}/. "
        f"Received: data_dir={data_dir!r}"
    )


def _parse_label(text, index_of_wnid, where):
    if text in index_of_wnid:
        return index_of_wnid[text]
    if text.isdigit() and int(text) < len(index_of_wnid):
        return int(text)
    raise ValueError(
        f"{where}: a label is a WordNet id of ILSVRC2012 or a class index 0..999. "
        f"Received: label={text!r}"
    )


def read_label_file(path):
    """`{image file name: class index}` of a validation label file (see the module doc)."""
    classes = imagenet_classes()
    name = os.path.basename(path)
    labels = {}
    with open(path, newline="") as f:
        if name == GROUND_TRUTH:
            by_id = classes.index_of_devkit_id()
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                devkit_id = int(line)
                if not 1 <= devkit_id <= len(classes.wnids):
                    raise ValueError(
                        f"{path}:{number}: an ILSVRC2012_ID is 1..1000. Received: {line.strip()!r}"
                    )
                labels[f"ILSVRC2012_val_{number:08d}.JPEG"] = int(by_id[devkit_id])
        elif name == KAGGLE_SOLUTION:
            index_of_wnid = classes.index_of_wnid()
            for number, row in enumerate(csv.DictReader(f), start=2):
                where = f"{path}:{number}"
                if "ImageId" not in row or not (row.get("PredictionString") or "").split():
                    raise ValueError(
                        f"{where}: expected `ImageId,PredictionString` rows. Received: {row!r}"
                    )
                wnid = row["PredictionString"].split()[0]
                labels[row["ImageId"] + ".JPEG"] = _parse_label(wnid, index_of_wnid, where)
        else:
            index_of_wnid = classes.index_of_wnid()
            for number, line in enumerate(f, start=1):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) != 2:
                    raise ValueError(
                        f"{path}:{number}: expected `<file name> <label>`. "
                        f"Received: {line.strip()!r}"
                    )
                labels[fields[0]] = _parse_label(fields[1], index_of_wnid, f"{path}:{number}")
    return labels


def find_label_file(val_dir, data_dir):
    """The first validation label file found (see the module doc), or None."""
    root = os.path.dirname(os.path.abspath(val_dir))
    folders = [val_dir, root, os.fspath(data_dir), os.path.join(os.fspath(data_dir), DEVKIT_DATA)]
    for folder in folders:
        for name in LABEL_FILES:
            if os.path.isfile(os.path.join(folder, name)):
                return os.path.join(folder, name)
    return None


def read_flat_validation(val_dir, data_dir):
    """The flat `val/*.JPEG` images labelled by the label file `find_label_file` finds."""
    classes = imagenet_classes()
    path = find_label_file(val_dir, data_dir)
    if path is None:
        raise FileNotFoundError(
            f"The ImageNet validation images in {val_dir!r} are not in class folders and no "
            f"label file ({', '.join(LABEL_FILES)}) was found beside them, in the dataset "
            f"root or in {DEVKIT_DATA}/. Received: val_dir={val_dir!r}"
        )
    labels = read_label_file(path)
    images = list_images(val_dir)
    missing = [os.path.basename(p) for p in images if os.path.basename(p) not in labels]
    if missing:
        raise ValueError(
            f"{len(missing)} validation images have no label in {path!r}, for example "
            f"{missing[0]!r}. Received: label_file={path!r}"
        )
    return ClassificationFiles(images, [labels[os.path.basename(p)] for p in images], classes.names)


def read_imagenet(data_dir, split):
    """One split (`"train"`, `"val"`, or another folder name) of an ImageNet layout.

    Returns:
        A `ClassificationFiles` whose class names are the short names of
        `imagenet_classes()` (class k is the k-th WordNet id in sorted order).
    """
    classes = imagenet_classes()
    folder = os.path.join(imagenet_root(data_dir, split), split)
    if list_images(folder):
        return read_flat_validation(folder, data_dir)
    class_folders(folder)  # a clear error for an empty folder
    return read_class_tree(folder, classes.names, classes.index_of_wnid())
