"""Fixtures of the export tests: real face crops from the sample data."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def sample_crops(shared_data):
    """`sample_crops(size)`: uint8 `(4, size, size, 3)` crops of the real WFLW sample faces."""
    from hrnet_keras.landmarks import CropOptions, face_dataset, read_annotations

    faces = read_annotations(shared_data / "faces/wflw/face_landmarks_wflw_test.csv", 98)

    def crops(size=256):
        options = CropOptions(input_size=size)
        batch = next(
            iter(face_dataset(faces, options, training=False, batch_size=4, targets=False))
        )
        return np.clip(np.round(batch["crop"].numpy()), 0, 255).astype(np.uint8)

    return crops
