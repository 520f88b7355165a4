"""HRNetV2-W18 on 300W (68 landmarks), the paper's setting (common/challenging/full 2.87/5.15/3.32,
test 3.85).

Data layout under `data_dir` (the reference's CSVs): `face_landmarks_300w_{train,valid,
valid_common,valid_challenge,test}.csv` and `images/` holding `afw/`, `helen/`, `ibug/`,
`lfpw/` and the official test images.
"""

from hrnet_keras.landmarks.recipes import paper_landmark_recipe


def recipe():
    return paper_landmark_recipe(
        "300w",
        "face_landmarks_300w_train.csv",
        {
            "full": "face_landmarks_300w_valid.csv",
            "common": "face_landmarks_300w_valid_common.csv",
            "challenging": "face_landmarks_300w_valid_challenge.csv",
            "test": "face_landmarks_300w_test.csv",
        },
        image_dir="images",
    )
