"""HRNetV2-W18-small-v1 at 128x128 on the COFW sample faces.

Run with `data_dir` = the sample folder (`../shared/data/faces/cofw` beside a checkout).
"""

from hrnet_keras.landmarks.recipes import sample_faces_recipe


def recipe():
    return sample_faces_recipe("cofw", "test_cofw.json")
