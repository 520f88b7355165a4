"""HRNetV2-W18 on AFLW (19 landmarks), the paper's setting (full/frontal NME 1.57/1.46,
normalised by the face box size).

Data layout under `data_dir` (the reference's CSVs, with `box_size`):
`face_landmarks_aflw_{train,test,test_frontal}.csv` and `images/`.
"""

from hrnet_keras.landmarks import LandmarkConfig
from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig


def recipe():
    return Recipe(
        task=LandmarkConfig(
            dataset="aflw",
            train_annotations="face_landmarks_aflw_train.csv",
            eval_annotations={
                "full": "face_landmarks_aflw_test.csv",
                "frontal": "face_landmarks_aflw_test_frontal.csv",
            },
            image_dir="images",
        ),
        model=ModelConfig(builder="hrnetv2", width=18, num_classes=19, bn_momentum=0.99),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=2e-4, weight_decay=0.0, schedule="step", boundaries=(30, 50)
        ),
        runtime=RuntimeConfig(global_batch_size=16, epochs=60),
    )
