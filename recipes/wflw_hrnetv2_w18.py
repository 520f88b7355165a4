"""HRNetV2-W18 on WFLW (98 landmarks), the paper's setting (test NME 4.60).

Data layout under `data_dir` (the official release):
`WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_{train,test}.txt` and
`WFLW_images/`. The six attribute subsets come from the test list's flags.
"""

from hrnet_keras.landmarks import LandmarkConfig
from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig

ANNOTATIONS = "WFLW_annotations/list_98pt_rect_attr_train_test"


def recipe():
    return Recipe(
        task=LandmarkConfig(
            dataset="wflw",
            train_annotations=f"{ANNOTATIONS}/list_98pt_rect_attr_train.txt",
            eval_annotations={"test": f"{ANNOTATIONS}/list_98pt_rect_attr_test.txt"},
            image_dir="WFLW_images",
        ),
        model=ModelConfig(builder="hrnetv2", width=18, num_classes=98, bn_momentum=0.99),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=1e-4, weight_decay=0.0, schedule="step", boundaries=(30, 50)
        ),
        runtime=RuntimeConfig(global_batch_size=16, epochs=60),
    )
