"""The exported landmark SavedModel serves crops in a process that cannot import hrnet_keras."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

CHILD = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    # No hrnet_keras: drop its editable-install finder and any path that holds the package.
    sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                     and "editable" not in getattr(f, "__name__", "").lower()]
    sys.path = [p for p in sys.path if p and not os.path.isdir(os.path.join(p, "hrnet_keras"))]
    assert importlib.util.find_spec("hrnet_keras") is None, "hrnet_keras is importable"
    import numpy as np
    import tensorflow as tf
    served = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
    crops = np.load(sys.argv[2])
    outputs = served(images=tf.constant(crops))
    assert not any(name.startswith("hrnet_keras") for name in sys.modules)
    print(json.dumps({k: v.numpy().tolist() for k, v in outputs.items()}))
    """
)


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


@pytest.mark.slow
def test_savedmodel_serves_a_batch_without_hrnet_keras(tmp_path, sample_crops):
    import keras

    from hrnet_keras.export import export_savedmodel
    from hrnet_keras.landmarks import LandmarkConfig
    from hrnet_keras.training import ModelConfig, Recipe

    keras.utils.set_random_seed(0)
    recipe = Recipe(
        task=LandmarkConfig("wflw", input_size=128),
        model=ModelConfig(width=4, num_classes=98, bn_momentum=0.99),
    )
    task = recipe.build_task()
    model = task.build_model()
    path = export_savedmodel(model, tmp_path / "landmarks", task=task)
    crops = sample_crops(128)
    np.save(tmp_path / "crops.npy", crops)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(tmp_path / "crops.npy")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    landmarks = np.array(served["landmarks"])
    assert landmarks.shape == (len(crops), 98, 2)
    expected = np.asarray(task.serving_model(model)(crops)["landmarks"])
    np.testing.assert_allclose(landmarks, expected, atol=1e-3)
