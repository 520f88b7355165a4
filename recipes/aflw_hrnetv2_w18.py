"""HRNetV2-W18 on AFLW (19 landmarks), the paper's setting (full/frontal NME 1.57/1.46,
normalised by the face box size).

Data layout under `data_dir` (the reference's CSVs, with `box_size`):
`face_landmarks_aflw_{train,test,test_frontal}.csv` and `images/`.
"""

from hrnet_keras.landmarks.recipes import paper_landmark_recipe


def recipe():
    return paper_landmark_recipe(
        "aflw",
        "face_landmarks_aflw_train.csv",
        {
            "full": "face_landmarks_aflw_test.csv",
            "frontal": "face_landmarks_aflw_test_frontal.csv",
        },
        image_dir="images",
        learning_rate=2e-4,
    )
