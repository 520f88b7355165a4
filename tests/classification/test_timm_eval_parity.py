"""Converted timm weights (random values) evaluated through the task's own pipeline give timm's
logits with timm's own evaluation transform, on the real sample photos.

The two preprocessings agree to PIL's rounding: the task resizes with TensorFlow ops that
reproduce PIL's two-pass resampling (`resize_like_pil`), which differs from PIL in 0.1-0.3%
of the crop's pixels, by one grey level. So the check is made twice: the preprocessed
tensors (equal but for those pixels, 1/255/std apart; in the default run), and the logits
of the task's crops against timm's (a relative error of 2e-3 at most; the model alone, fed
timm's own tensor, agrees to 1e-4, as `tests/convert/test_convert_timm_parity.py` checks;
`-m heavy`).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")
keras = pytest.importorskip("keras")

from PIL import Image  # noqa: E402
from torch_hrnet_reference import (  # noqa: E402
    convert,
    randomize,
    relative_error,
    single_threaded_torch,  # noqa: F401
    to_nchw,
    to_nhwc,
)

from hrnet_keras.classification import ClassificationConfig, ClassificationFiles  # noqa: E402
from hrnet_keras.classification.pipeline import evaluation_examples  # noqa: E402
from hrnet_keras.models.presets import CLASSIFICATION  # noqa: E402
from hrnet_keras.training import Recipe  # noqa: E402

CLASSES = tuple("abcdef")
# One grey level of PIL's rounding, normalised by the smallest ImageNet std.
ONE_LEVEL = 1 / 255 / 0.224 + 1e-5


def _photos(shared_data):
    paths = sorted((shared_data / "coco_voc" / "JPEGImages").glob("*.jpg"))
    return [str(p) for p in paths + sorted((shared_data / "coco_persons").glob("*.jpg"))]


def _timm_transform(model):
    data_config = timm.data.resolve_data_config({}, model=model)
    assert data_config["interpolation"] == "bilinear" and data_config["crop_pct"] == 0.875
    return timm.data.create_transform(**data_config)


def _both_crops(shared_data, config, transform):
    """The task's evaluation crops and timm's eval transform's, NHWC, of the sample photos."""
    paths = _photos(shared_data)
    files = ClassificationFiles(paths, [0] * len(paths), CLASSES)
    ours = np.stack([image for image, _ in evaluation_examples(files, config)])
    theirs = np.stack([to_nhwc(transform(Image.open(p).convert("RGB"))[None])[0] for p in paths])
    return ours, theirs


def test_task_evaluation_crops_are_timms_eval_transform(shared_data):
    """The default run's share of the check below: the preprocessing, without a model."""
    transform = _timm_transform(timm.create_model("hrnet_w18_small.ms_in1k"))
    ours, theirs = _both_crops(shared_data, ClassificationConfig(class_names=CLASSES), transform)
    assert ours.shape == theirs.shape == (len(_photos(shared_data)), 224, 224, 3)
    difference = np.abs(ours - theirs)
    assert difference.max() <= ONE_LEVEL
    assert (difference > 1e-5).mean() < 0.005


@pytest.mark.heavy
def test_task_evaluation_matches_timm_with_its_eval_transform(shared_data, tmp_path):
    reference = randomize(timm.create_model("hrnet_w18_small.ms_in1k", num_classes=6), seed=4)
    transform = _timm_transform(reference)
    torch.save(reference.state_dict(), tmp_path / "timm.pth")
    convert(tmp_path / "timm.pth", tmp_path / "timm.keras", "--model", "classifier")

    recipe = Recipe(
        ClassificationConfig(class_names=CLASSES),
        CLASSIFICATION.model_config(width="18-small-v1", weights=str(tmp_path / "timm.keras")),
    )
    task = recipe.build_task()
    model = task.build_model()
    ours, theirs = _both_crops(shared_data, task.config, transform)

    difference = np.abs(ours - theirs)
    assert difference.max() <= ONE_LEVEL
    assert (difference > 1e-5).mean() < 0.005

    with torch.no_grad():
        expected = reference(to_nchw(theirs)).numpy()
    logits = model.predict(ours, verbose=0)
    error = relative_error(logits, expected)
    print(f"logits of the task's crops vs timm's: relative error {error:.2e}")
    assert error <= 2e-3
    assert relative_error(model.predict(theirs, verbose=0), expected) <= 1e-4
    assert (logits.argmax(1) == expected.argmax(1)).all()
