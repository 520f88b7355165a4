"""HRNetV2-W18-small-v1 at 128x128 on the 300W sample faces.

Run with `data_dir` = the sample folder (`../shared/data/faces/300w` beside a checkout).
Training and evaluation use the same faces, without augmentation, with wider targets (sigma 2
on the 32x32 grid) that learn faster, and DARK decoding (finer than the grid's quarter
cells): the point is that the training NME falls far below the mean-shape baseline, not
generalisation.
"""

from hrnet_keras.landmarks import LandmarkConfig
from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig


def recipe():
    return Recipe(
        task=LandmarkConfig(
            dataset="300w",
            train_annotations="face_landmarks_300w_test.csv",
            eval_annotations={"train": "face_landmarks_300w_test.csv"},
            scale_range=(1.0, 1.0),
            rotation_probability=0.0,
            flip_probability=0.0,
            input_size=128,
            sigma=2.0,
            decoder="dark",
        ),
        model=ModelConfig(builder="hrnetv2", width="18-small-v1", num_classes=68, bn_momentum=0.99),
        optimizer=OptimizerConfig(
            # Two faces: at 5e-3 the 400 steps end above the mean-shape baseline (NME 0.118).
            name="adam",
            learning_rate=1e-2,
            weight_decay=0.0,
            schedule="constant",
        ),
        runtime=RuntimeConfig(global_batch_size=4, epochs=1, steps_per_epoch=400, seed=0),
    )
