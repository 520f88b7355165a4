"""HRNetV2-W18 on COFW (29 landmarks), the paper's setting (test NME 3.45, FR_0.1 0.19%).

Data under `data_dir`: `COFW_train_color.mat` and `COFW_test_color.mat` (images inside).
"""

from hrnet_keras.landmarks.recipes import paper_landmark_recipe


def recipe():
    return paper_landmark_recipe("cofw", "COFW_train_color.mat", {"test": "COFW_test_color.mat"})
