"""The face-landmark recipes' common parts: the paper's training setting, and the tiny setting
that memorises a few sample faces. A recipe file calls one with what is its own (dataset,
annotation files, learning rate).
"""

from hrnet_keras.landmarks.config import LandmarkConfig
from hrnet_keras.models.presets import FACE
from hrnet_keras.training.recipe import OptimizerConfig, Recipe, RuntimeConfig


def paper_landmark_recipe(
    dataset, train_annotations, eval_annotations, *, image_dir="", learning_rate=1e-4
):
    """HRNetV2-W18 trained as the paper trains it on `dataset`.

    256x256 crops (face box x 1.25, scaled by 0.75-1.25, rotated by up to 30 degrees with
    probability 0.6, flipped with probability 0.5), the dataset's Gaussian sigma; Adam,
    x0.1 at epochs 30 and 50, 60 epochs of batch 16; the face family's model options.

    Args:
        dataset: `"wflw"`, `"300w"`, `"cofw"` or `"aflw"`.
        train_annotations / eval_annotations / image_dir: as `LandmarkConfig`.
        learning_rate: Adam's (the paper: 1e-4, AFLW 2e-4).

    Returns:
        A `Recipe`.

    Example:
    >>> recipe = paper_landmark_recipe("cofw", "train.mat", {"test": "test.mat"})
    >>> recipe.model.num_classes, recipe.model.bn_momentum, recipe.runtime.epochs
    (29, 0.99, 60)
    """
    task = LandmarkConfig(
        dataset=dataset,
        train_annotations=train_annotations,
        eval_annotations=eval_annotations,
        image_dir=image_dir,
    )
    return Recipe(
        task=task,
        model=FACE.model_config(width=18, num_classes=task.num_landmarks),
        optimizer=OptimizerConfig(
            name="adam",
            learning_rate=learning_rate,
            weight_decay=0.0,
            schedule="step",
            boundaries=(30, 50),
        ),
        runtime=RuntimeConfig(global_batch_size=16, epochs=60),
    )


def sample_faces_recipe(dataset, annotations, *, learning_rate=5e-3):
    """HRNetV2-W18-small-v1 at 128x128 memorising the faces of one annotation file.

    Training and evaluation use the same faces (the eval subset is called `"train"`),
    without augmentation, with wider targets (sigma 2 on the 32x32 grid) that learn faster
    and DARK decoding (finer than the grid's quarter cells): the point is that the training
    NME falls far below the mean-shape baseline, not generalisation. Adam at a constant
    rate, 400 steps of batch 4.

    Args:
        dataset: `"wflw"`, `"300w"`, `"cofw"` or `"aflw"`.
        annotations: the annotation file, relative to the sample folder.
        learning_rate: Adam's.

    Returns:
        A `Recipe`.

    Example:
    >>> recipe = sample_faces_recipe("wflw", "faces.csv")
    >>> recipe.task.input_size, recipe.model.width, recipe.runtime.steps_per_epoch
    (128, '18-small-v1', 400)
    """
    task = LandmarkConfig(
        dataset=dataset,
        train_annotations=annotations,
        eval_annotations={"train": annotations},
        scale_range=(1.0, 1.0),
        rotation_probability=0.0,
        flip_probability=0.0,
        input_size=128,
        sigma=2.0,
        decoder="dark",
    )
    return Recipe(
        task=task,
        model=FACE.model_config(width="18-small-v1", num_classes=task.num_landmarks),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=learning_rate, weight_decay=0.0, schedule="constant"
        ),
        runtime=RuntimeConfig(global_batch_size=4, epochs=1, steps_per_epoch=400, seed=0),
    )
