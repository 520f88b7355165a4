"""HRNetV2-W18-small-v1 at 128x128 on the AFLW sample faces.

Run with `data_dir` = the sample folder (`../shared/data/faces/aflw` beside a checkout).
The same faces train and evaluate: see `hrnet_keras.landmarks.recipes.sample_faces_recipe`.
"""

from hrnet_keras.landmarks.recipes import sample_faces_recipe


def recipe():
    return sample_faces_recipe("aflw", "face_landmarks_aflw_test.csv")
