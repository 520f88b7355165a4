"""HRNetV2-W18 on WFLW (98 landmarks), the paper's setting (test NME 4.60).

Data layout under `data_dir` (the official release):
`WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_{train,test}.txt` and
`WFLW_images/`. The six attribute subsets come from the test list's flags.
"""

from hrnet_keras.landmarks.recipes import paper_landmark_recipe

ANNOTATIONS = "WFLW_annotations/list_98pt_rect_attr_train_test"


def recipe():
    return paper_landmark_recipe(
        "wflw",
        f"{ANNOTATIONS}/list_98pt_rect_attr_train.txt",
        {"test": f"{ANNOTATIONS}/list_98pt_rect_attr_test.txt"},
        image_dir="WFLW_images",
    )
