"""HRNetV2-W18-small-v1 at 128x128 on the COFW sample faces.

Run with `data_dir` = the sample folder (`../shared/data/faces/cofw` beside a checkout).
"""

from hrnet_keras.landmarks import LandmarkConfig
from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig


def recipe():
    return Recipe(
        task=LandmarkConfig(
            dataset="cofw",
            train_annotations="test_cofw.json",
            eval_annotations={"train": "test_cofw.json"},
            scale_range=(1.0, 1.0),
            rotation_probability=0.0,
            flip_probability=0.0,
            input_size=128,
            sigma=2.0,
            decoder="dark",
        ),
        model=ModelConfig(builder="hrnetv2", width="18-small-v1", num_classes=29, bn_momentum=0.99),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=5e-3, weight_decay=0.0, schedule="constant"
        ),
        runtime=RuntimeConfig(global_batch_size=4, epochs=1, steps_per_epoch=400, seed=0),
    )
