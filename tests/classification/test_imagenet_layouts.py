"""ImageNet's class order and layouts: the shipped synset table against the published orders,
and the train / val folder readers with every supported validation label file."""

import numpy as np
import pytest
from PIL import Image

from hrnet_keras.classification import imagenet_classes
from hrnet_keras.classification.readers import read_imagenet, read_label_file

# The first five validation images as three published files label them: the devkit's
# ILSVRC2012_validation_ground_truth.txt (ILSVRC2012_IDs), TF-slim's
# imagenet_2012_validation_synset_labels.txt (WordNet ids) and Caffe's val.txt (class
# indices of the sorted order, which torchvision, timm and the HRNet checkpoints use).
GROUND_TRUTH_IDS = (490, 361, 171, 822, 297)
SLIM_WNIDS = ("n01751748", "n09193705", "n02105855", "n04263257", "n03125729")
CAFFE_INDICES = (65, 970, 230, 809, 516)
VAL_NAMES = [f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, 6)]


def test_class_order_is_the_sorted_wnid_order():
    classes = imagenet_classes()
    assert len(classes.wnids) == len(set(classes.wnids)) == 1000
    assert classes.wnids[0] == "n01440764" and classes.wnids[-1] == "n15075141"
    assert list(classes.wnids) == sorted(classes.wnids)
    assert [classes.wnids[i] for i in CAFFE_INDICES] == list(SLIM_WNIDS)


def test_class_order_equals_timms_imagenet_info():
    timm_data = pytest.importorskip("timm.data")
    info = timm_data.ImageNetInfo()
    assert tuple(info.label_names()) == imagenet_classes().wnids


def test_devkit_ids_are_the_meta_mat_order():
    classes = imagenet_classes()
    by_id = classes.index_of_devkit_id()
    assert [int(by_id[i]) for i in GROUND_TRUTH_IDS] == list(CAFFE_INDICES)
    # meta.mat: synset 1 is the kit fox, 1000 the dumbbell, 449 the tench (class 0).
    assert classes.wnids[by_id[1]] == "n02119789" and classes.names[by_id[1]] == "kit_fox"
    assert classes.wnids[by_id[1000]] == "n03255030" and by_id[449] == 0
    assert sorted(by_id[1:].tolist()) == list(range(1000))


@pytest.fixture
def val_images(crop_tree):
    """Five real JPEG crops named as the first five validation images."""
    sources = sorted(crop_tree.glob("person/*.jpg"))[:5]
    images = []
    for source, name in zip(sources, VAL_NAMES):
        with Image.open(source) as image:
            images.append((name, image.convert("RGB")))
    return images


def _write_flat_val(root, val_images):
    (root / "val").mkdir(parents=True)
    for name, image in val_images:
        image.save(root / "val" / name, format="JPEG")


def _write_label_file(folder, kind):
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "ground_truth":
        text = "\n".join(map(str, GROUND_TRUTH_IDS)) + "\n"
        (folder / "ILSVRC2012_validation_ground_truth.txt").write_text(text)
    elif kind == "kaggle":
        rows = [
            f"{name[:-5]},{wnid} 10 20 30 40 {wnid} 1 2 3 4"
            for name, wnid in zip(VAL_NAMES, SLIM_WNIDS)
        ]
        (folder / "LOC_val_solution.csv").write_text("ImageId,PredictionString\n" + "\n".join(rows))
    else:  # val_labels.txt mixes WordNet ids and class indices
        labels = [SLIM_WNIDS[0], *map(str, CAFFE_INDICES[1:])]
        lines = [f"{name} {label}" for name, label in zip(VAL_NAMES, labels)]
        (folder / "val_labels.txt").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("kind", "where"),
    [
        ("ground_truth", "ILSVRC2012_devkit_t12/data"),
        ("ground_truth", "val"),
        ("kaggle", "."),
        ("val_labels", "val"),
    ],
)
def test_flat_validation_with_a_label_file(tmp_path, val_images, kind, where):
    _write_flat_val(tmp_path, val_images)
    _write_label_file(tmp_path / where, kind)
    files = read_imagenet(tmp_path, "val")
    assert [p.rsplit("/", 1)[-1] for p in files.images] == VAL_NAMES
    assert files.labels.tolist() == list(CAFFE_INDICES)
    assert files.num_classes == 1000 and files.class_names[0] == "tench"


def test_kaggle_layout_and_train_folders(tmp_path, val_images):
    data = tmp_path / "ILSVRC" / "Data" / "CLS-LOC"
    _write_flat_val(data, val_images)
    _write_label_file(tmp_path, "kaggle")
    for (name, image), wnid in zip(val_images, SLIM_WNIDS):
        (data / "train" / wnid).mkdir(parents=True, exist_ok=True)
        image.save(data / "train" / wnid / f"{wnid}_{name[-10:]}")
    train = read_imagenet(tmp_path, "train")
    assert sorted(train.labels.tolist()) == sorted(CAFFE_INDICES)
    assert read_imagenet(tmp_path, "val").labels.tolist() == list(CAFFE_INDICES)


def test_validation_in_class_folders(tmp_path, val_images):
    for (name, image), wnid in zip(val_images, SLIM_WNIDS):
        (tmp_path / "val" / wnid).mkdir(parents=True)
        image.save(tmp_path / "val" / wnid / name)
    files = read_imagenet(tmp_path, "val")
    order = np.argsort(SLIM_WNIDS)
    assert files.labels.tolist() == [CAFFE_INDICES[i] for i in order]


def test_layout_errors_name_the_file(tmp_path, val_images):
    _write_flat_val(tmp_path, val_images)
    with pytest.raises(FileNotFoundError, match="no label file"):
        read_imagenet(tmp_path, "val")
    (tmp_path / "val_labels.txt").write_text(f"{VAL_NAMES[0]} n99999999\n")
    with pytest.raises(ValueError, match=r"val_labels.txt:1: .* Received: label='n99999999'"):
        read_label_file(str(tmp_path / "val_labels.txt"))
    (tmp_path / "val_labels.txt").write_text(f"{VAL_NAMES[0]} 3\n")
    with pytest.raises(ValueError, match="4 validation images have no label"):
        read_imagenet(tmp_path, "val")
    (tmp_path / "train" / "not_a_wnid").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "train" / "not_a_wnid" / "a.JPEG")
    with pytest.raises(ValueError, match="not one of the 1000 known classes"):
        read_imagenet(tmp_path, "train")
