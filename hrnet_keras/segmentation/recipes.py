"""The segmentation recipes' common parts: the paper's training setting (section 4.1) and the
tiny setting that memorises a few images on a CPU. A recipe file calls one with its
`SegmentationConfig` and what else is its own.

Not imported by `hrnet_keras.segmentation` itself: the presets table it reads imports that
package.
"""

from hrnet_keras.models.presets import SEGMENTATION
from hrnet_keras.training.recipe import OptimizerConfig, Recipe, RuntimeConfig


def paper_segmentation_recipe(
    task, *, learning_rate, weight_decay, global_batch_size, epochs, steps_per_epoch, width=48
):
    """HRNetV2 trained as the paper trains its segmenters.

    SGD with momentum 0.9 and L2 weight decay (PyTorch's `weight_decay`), poly decay of power
    0.9 per iteration, synchronised batch norm, seed 0; the segmentation family's model
    options (bilinear fusion, Keras BN momentum 0.99).

    Args:
        task: the `SegmentationConfig` (dataset, crops, loss, evaluation).
        learning_rate / weight_decay: SGD's.
        global_batch_size / epochs / steps_per_epoch: the official iterations are
            `epochs * steps_per_epoch` batches of `global_batch_size`.
        width: HRNet width.

    Returns:
        A `Recipe`.

    Example:
    >>> from hrnet_keras.segmentation import SegmentationConfig
    >>> recipe = paper_segmentation_recipe(
    ...     SegmentationConfig(), learning_rate=0.01, weight_decay=5e-4,
    ...     global_batch_size=12, epochs=480, steps_per_epoch=250)
    >>> recipe.model.bn_momentum, recipe.optimizer.schedule, recipe.runtime.sync_bn
    (0.99, 'poly', True)
    """
    return Recipe(
        task=task,
        model=SEGMENTATION.model_config(width=width),
        optimizer=OptimizerConfig(
            name="sgd",
            learning_rate=learning_rate,
            momentum=0.9,
            weight_decay=weight_decay,
            weight_decay_mode="l2",
            schedule="poly",
            power=0.9,
        ),
        runtime=RuntimeConfig(
            global_batch_size=global_batch_size,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            sync_bn=True,
            seed=0,
        ),
    )


def tiny_segmentation_recipe(task, *, global_batch_size, epochs, steps_per_epoch):
    """HRNetV2-W18-small-v1 memorising a handful of images in a few CPU minutes.

    Adam at 2e-3 without weight decay, poly decay (power 0.9), no synchronised batch norm,
    seed 0.

    Args:
        task: the `SegmentationConfig`.
        global_batch_size / epochs / steps_per_epoch: how long it trains.

    Returns:
        A `Recipe`.

    Example:
    >>> from hrnet_keras.segmentation import SegmentationConfig
    >>> recipe = tiny_segmentation_recipe(
    ...     SegmentationConfig(), global_batch_size=4, epochs=2, steps_per_epoch=5)
    >>> recipe.model.width, recipe.model.bn_momentum
    ('18-small-v1', 0.9)
    """
    return Recipe(
        task=task,
        # Over a few hundred steps the BN statistics must follow the weights faster than
        # the segmentation code's momentum (Keras 0.99) lets them.
        model=SEGMENTATION.model_config(width="18-small-v1", bn_momentum=0.9),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=2e-3, weight_decay=0.0, schedule="poly", power=0.9
        ),
        runtime=RuntimeConfig(
            global_batch_size=global_batch_size,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            sync_bn=False,
            seed=0,
        ),
    )
