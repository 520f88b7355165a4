"""The detection recipes' common parts: Faster R-CNN and Cascade R-CNN trained on COCO as
mmdetection trains the paper's detectors, and the tiny setting that memorises a few photos on a
CPU. A recipe file calls one with what is its own (width, schedule; data files and classes).

Not imported by `hrnet_keras.detection` itself: the presets table it reads imports that
package.
"""

from hrnet_keras.detection.config import DetectionConfig
from hrnet_keras.models.presets import DETECTION
from hrnet_keras.training.recipe import OptimizerConfig, Recipe, RuntimeConfig

# Epochs and the epochs after which the rate drops tenfold (mmdetection's `lr_config.step`).
SCHEDULES = {"1x": (12, (8, 11)), "2x": (24, (16, 22)), "20e": (20, (16, 19))}


def coco_faster_rcnn_recipe(width=32, *, schedule="1x", backbone=None, backbone_weights=None):
    """Faster R-CNN with an HRNetV2p (or another) backbone on COCO 2017, mmdetection's setting.

    The paper's detectors are mmdetection's `faster_rcnn_hrnetv2p_w{18,32,40}_{1x,2x}`:
    images resized to a short side of 800 (long side at most 1333) and flipped with
    probability 0.5; SGD at 0.02 for a global batch of 16 (2 images on each of 8 GPUs),
    momentum 0.9, weight decay 1e-4, the gradient clipped to a global norm of 35, a linear
    warm-up over 500 steps from a third of the rate, then x0.1 after epochs 8 and 11 of 12
    (1x) or 16 and 22 of 24 (2x). The backbone starts from the ImageNet classifier and
    trains with its batch-norm statistics frozen (`task.norm_eval`); every other layer
    starts from its initialiser.

    Differences that remain: weight decay skips biases and batch-norm parameters (this
    library's rule; mmdetection decays every parameter), and every image is padded to one
    1344 x 1344 canvas (`DetectionDataConfig.pad_shape`) instead of its batch's largest.
    mmdetection v2's own schedule file warms up from 0.001 of the rate without clipping;
    the HRNet detection configs it was ported from (mmdetection v1) use 1/3 and 35.

    Args:
        width: HRNet width (18, 32, 40, 48).
        schedule: `"1x"` (12 epochs), `"2x"` (24 epochs) or `"20e"` (20 epochs).
        backbone: `model.backbone`, for a `faster_rcnn` builder that takes another
            backbone; None is HRNetV2p.
        backbone_weights: the ImageNet classifier's weights for the backbone; None names
            `hrnetv2_w{width}_imagenet.keras` in the working directory, which
            `hrnet-keras convert hrnetv2_w{width}_imagenet_pretrained.pth
            hrnetv2_w{width}_imagenet.keras --model backbone` writes from the published
            checkpoint (with another `backbone`, `{backbone}_imagenet.keras`);
            `--set model.backbone_weights=PATH` names another file, `=None` trains from
            scratch.

    Returns:
        A `Recipe`.

    Example:
    >>> recipe = coco_faster_rcnn_recipe(18, schedule="2x")
    >>> recipe.model.builder, recipe.runtime.epochs, recipe.optimizer.boundaries
    ('faster_rcnn', 24, (16, 22))
    >>> recipe.model.backbone_weights, recipe.optimizer.global_clipnorm
    ('hrnetv2_w18_imagenet.keras', 35.0)
    """
    return _coco_recipe("faster_rcnn", width, schedule, backbone, backbone_weights)


def coco_cascade_rcnn_recipe(width=32, *, schedule="20e", backbone=None, backbone_weights=None):
    """Cascade R-CNN with an HRNetV2p backbone on COCO 2017, mmdetection's
    `cascade_rcnn_hrnetv2p_w{18,32,40}_20e`.

    Faster R-CNN's setting (`coco_faster_rcnn_recipe`: data, SGD, warm-up, clipping, frozen
    batch-norm statistics) over 20 epochs, the rate x0.1 after epochs 16 and 19; the model
    is `cascade_rcnn` (three stages, 2000 training proposals, smooth L1 box losses).

    Args:
        width, backbone, backbone_weights: as `coco_faster_rcnn_recipe`.
        schedule: `"20e"` (mmdetection's cascade schedule), or `"1x"` / `"2x"`.

    Returns:
        A `Recipe`.

    Example:
    >>> recipe = coco_cascade_rcnn_recipe(18)
    >>> recipe.model.builder, recipe.runtime.epochs, recipe.optimizer.boundaries
    ('cascade_rcnn', 20, (16, 19))
    """
    return _coco_recipe("cascade_rcnn", width, schedule, backbone, backbone_weights)


def _coco_recipe(builder, width, schedule, backbone, backbone_weights):
    if schedule not in SCHEDULES:
        raise ValueError(
            f"`schedule` must be one of {sorted(SCHEDULES)}. Received: schedule={schedule!r}"
        )
    epochs, boundaries = SCHEDULES[schedule]
    if backbone_weights is None:
        name = f"hrnetv2_w{width}" if backbone is None else backbone
        backbone_weights = f"{name}_imagenet.keras"
    return Recipe(
        task=DetectionConfig(layout="coco2017"),
        model=DETECTION.model_config(
            builder=builder,
            width=width,
            num_classes=80,
            backbone=backbone,
            backbone_weights=backbone_weights,
        ),
        optimizer=OptimizerConfig(
            name="sgd",
            learning_rate=0.02,
            momentum=0.9,
            weight_decay=1e-4,
            weight_decay_mode="l2",
            schedule="step",
            boundaries=boundaries,
            decay_rate=0.1,
            warmup_steps=500,
            warmup_start=1 / 3,
            global_clipnorm=35.0,
        ),
        # One epoch is one pass over train2017's 117,266 images that have boxes.
        runtime=RuntimeConfig(global_batch_size=16, epochs=epochs, sync_bn=False, seed=0),
    )


def tiny_detection_recipe(annotations, images, class_names, *, epochs=6, steps_per_epoch=25):
    """A small Faster R-CNN (HRNetV2p-W18-small-v1) memorising a few photos on a CPU.

    Photos resized to a short side of 256 (long side at most 416) on a 256 x 416 canvas,
    without flips; a 64-channel pyramid, fewer proposals and samples; every layer from its
    initialiser, batch-norm statistics trained; Adam at 1e-3 after a 20-step warm-up, x0.1
    for the last epoch; batches of 2. Evaluated on the same photos: the point is that the
    training AP approaches 1, not generalisation.

    Args:
        annotations: the COCO json, relative to the data folder.
        images: the folder its `file_name`s are relative to (`""`: the data folder).
        class_names: the json's category names in the order of their ids.
        epochs / steps_per_epoch: how long it trains.

    Returns:
        A `Recipe`.

    Example:
    >>> recipe = tiny_detection_recipe("boxes.json", "", ("cat",))
    >>> recipe.task.canvas, recipe.model.width, recipe.optimizer.boundaries
    ((256, 416), '18-small-v1', (5,))
    """
    task = DetectionConfig(
        layout="json",
        train_annotations=annotations,
        train_images=images,
        eval_annotations=annotations,
        eval_images=images,
        class_names=tuple(class_names),
        min_size=256,
        max_size=416,
        pad_shape=(256, 416),
        flip=0.0,
        channels=64,
        rpn_channels=64,
        fc_channels=256,
        train_pre_nms_top_k=500,
        test_pre_nms_top_k=500,
        max_proposals=200,
        rcnn_num_samples=128,
        norm_eval=False,
    )
    return Recipe(
        task=task,
        model=DETECTION.model_config(builder="faster_rcnn", width="18-small-v1"),
        optimizer=OptimizerConfig(
            name="adam",
            learning_rate=1e-3,
            weight_decay=0.0,
            schedule="step",
            boundaries=(epochs - 1,),
            warmup_steps=20,
        ),
        runtime=RuntimeConfig(
            global_batch_size=2,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            sync_bn=False,
            seed=0,
        ),
    )
