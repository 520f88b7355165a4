"""HRNetV2-W18 on COFW (29 landmarks), the paper's setting (test NME 3.45, FR_0.1 0.19%).

Data under `data_dir`: `COFW_train_color.mat` and `COFW_test_color.mat` (images inside).
"""

from hrnet_keras.landmarks import LandmarkConfig
from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig


def recipe():
    return Recipe(
        task=LandmarkConfig(
            dataset="cofw",
            train_annotations="COFW_train_color.mat",
            eval_annotations={"test": "COFW_test_color.mat"},
        ),
        model=ModelConfig(builder="hrnetv2", width=18, num_classes=29, bn_momentum=0.99),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=1e-4, weight_decay=0.0, schedule="step", boundaries=(30, 50)
        ),
        runtime=RuntimeConfig(global_batch_size=16, epochs=60),
    )
