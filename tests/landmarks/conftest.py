"""Fixtures of the landmark tests: the real sample faces of each dataset."""

import pytest

from hrnet_keras.landmarks import read_annotations

SAMPLE_FILES = {
    "wflw": "face_landmarks_wflw_test.csv",
    "300w": "face_landmarks_300w_test.csv",
    "aflw": "face_landmarks_aflw_test.csv",
    "cofw": "test_cofw.json",
}
NUM_LANDMARKS = {"wflw": 98, "300w": 68, "aflw": 19, "cofw": 29}


@pytest.fixture(scope="session")
def sample_faces(shared_data):
    """`sample_faces(dataset)`: the faces of `../shared/data/faces/<dataset>`."""

    def read(dataset):
        folder = shared_data / "faces" / dataset
        return read_annotations(folder / SAMPLE_FILES[dataset], NUM_LANDMARKS[dataset])

    return read
