"""The classification recipes' common parts: the official ImageNet training of HRNet-Wx-C and
fine-tuning on a class folder tree. A recipe file calls one with what is its own.
"""

from hrnet_keras.classification.config import ClassificationConfig
from hrnet_keras.models.presets import CLASSIFICATION
from hrnet_keras.training.recipe import OptimizerConfig, Recipe, RuntimeConfig

IMAGENET_TRAIN_IMAGES = 1_281_167
# The official code: lr 0.05 for 4 GPUs x 32 images.
BASE_LEARNING_RATE = 0.05
BASE_BATCH_SIZE = 128
SCHEDULES = ("step", "cosine")


def imagenet_recipe(width, *, schedule="step", global_batch_size=BASE_BATCH_SIZE, warmup_epochs=5):
    """HRNet-Wx-C trained on ImageNet as HRNet-Image-Classification trains it.

    SGD with Nesterov momentum 0.9, L2 weight decay 1e-4 (PyTorch's `weight_decay`), lr
    0.05 per 128 images scaled linearly with `global_batch_size`, 100 epochs; `"step"`:
    x0.1 at epochs 30, 60 and 90 (the official schedule); `"cosine"`: a linear warm-up over
    `warmup_epochs`, then Keras' cosine decay to 0. Random resized crops of 224 (area
    8-100%, aspect 3/4-4/3) and flips; evaluation on the 224 centre of images resized to
    256 (bilinear, as the official code and timm). Batch norm per replica (the official
    code's DataParallel), the classification family's model options (nearest fusion, BN
    momentum 0.1 in PyTorch's terms), seed 0.

    Args:
        width: 18, 30, 32, 40, 44, 48, 64, `"18-small-v1"` or `"18-small-v2"`.
        schedule: `"step"` or `"cosine"`.
        global_batch_size: images per step over all replicas (the rate follows it).
        warmup_epochs: the cosine schedule's warm-up.

    Returns:
        A `Recipe` reading an ImageNet folder layout (`task.dataset="imagenet"`).

    Example:
    >>> recipe = imagenet_recipe(18, global_batch_size=256)
    >>> recipe.optimizer.learning_rate, recipe.optimizer.boundaries, recipe.model.num_classes
    (0.1, (30, 60, 90), 1000)
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"`schedule` must be one of {SCHEDULES}. Received: schedule={schedule!r}")
    learning_rate = BASE_LEARNING_RATE * global_batch_size / BASE_BATCH_SIZE
    steps_per_epoch = IMAGENET_TRAIN_IMAGES // global_batch_size
    return Recipe(
        task=ClassificationConfig(dataset="imagenet"),
        model=CLASSIFICATION.model_config(width=width, num_classes=1000),
        optimizer=OptimizerConfig(
            name="sgd",
            learning_rate=learning_rate,
            momentum=0.9,
            nesterov=True,
            weight_decay=1e-4,
            weight_decay_mode="l2",
            schedule=schedule,
            boundaries=(30, 60, 90) if schedule == "step" else (),
            decay_rate=0.1,
            warmup_steps=warmup_epochs * steps_per_epoch if schedule == "cosine" else 0,
        ),
        runtime=RuntimeConfig(
            global_batch_size=global_batch_size, epochs=100, sync_bn=False, seed=0
        ),
    )


def folder_classifier_recipe(
    *, width="18-small-v1", crop_size=96, epochs=10, freeze_backbone_epochs=0, global_batch_size=32
):
    """Fine-tuning HRNet-Wx-C on a class folder tree (`root/<class>/*.jpg`, or `train/` and
    `val/` trees), sized to train on a CPU in minutes.

    Adam at 1e-3 with a cosine decay, no weight decay; random resized crops of `crop_size`
    (area 25-100%) and flips; evaluation on the centre crop after resizing the shorter side
    to `crop_size / 0.875`. Set `model.weights` to a converted ImageNet checkpoint of the
    same width: every layer but the dense head loads.

    Args:
        width / crop_size: the model and its input.
        epochs: passes over the training images.
        freeze_backbone_epochs: epochs that train the new head alone first.
        global_batch_size: images per step.

    Returns:
        A `Recipe`.

    Example:
    >>> recipe = folder_classifier_recipe()
    >>> recipe.model.width, recipe.task.crop_size, recipe.model.num_classes
    ('18-small-v1', 96, None)
    """
    return Recipe(
        task=ClassificationConfig(
            dataset="folder",
            crop_size=crop_size,
            scale_range=(0.25, 1.0),
            freeze_backbone_epochs=freeze_backbone_epochs,
        ),
        model=CLASSIFICATION.model_config(width=width),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=1e-3, weight_decay=0.0, schedule="cosine"
        ),
        runtime=RuntimeConfig(
            global_batch_size=global_batch_size, epochs=epochs, sync_bn=False, seed=0
        ),
    )
