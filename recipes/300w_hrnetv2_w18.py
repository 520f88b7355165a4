"""HRNetV2-W18 on 300W (68 landmarks), the paper's setting (common/challenging/full 2.87/5.15/3.32,
test 3.85).

Data layout under `data_dir` (the reference's CSVs): `face_landmarks_300w_{train,valid,
valid_common,valid_challenge,test}.csv` and `images/` holding `afw/`, `helen/`, `ibug/`,
`lfpw/` and the official test images.
"""

from hrnet_keras.landmarks import LandmarkConfig
from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig


def recipe():
    return Recipe(
        task=LandmarkConfig(
            dataset="300w",
            train_annotations="face_landmarks_300w_train.csv",
            eval_annotations={
                "full": "face_landmarks_300w_valid.csv",
                "common": "face_landmarks_300w_valid_common.csv",
                "challenging": "face_landmarks_300w_valid_challenge.csv",
                "test": "face_landmarks_300w_test.csv",
            },
            image_dir="images",
        ),
        model=ModelConfig(builder="hrnetv2", width=18, num_classes=68, bn_momentum=0.99),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=1e-4, weight_decay=0.0, schedule="step", boundaries=(30, 50)
        ),
        runtime=RuntimeConfig(global_batch_size=16, epochs=60),
    )
