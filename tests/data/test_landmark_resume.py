"""Landmark training keyed by (seed, epoch, index): a run SIGKILLed mid-epoch and resumed
ends with bitwise the weights of an uninterrupted one; `runtime.sync_bn` reaches the model."""

import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras_test_helpers import weights_file_arrays

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNNER = os.path.join(ROOT, "tests", "helpers", "landmark_run.py")
TIMEOUT = 300


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    env.pop("TF_CONFIG", None)
    return env


def _run(data_dir, model_dir, *kill):
    command = [sys.executable, RUNNER, str(data_dir), str(model_dir), *map(str, kill)]
    return subprocess.Popen(
        command, env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_a_landmark_run_killed_mid_epoch_resumes_to_the_uninterrupted_weights(
    shared_data, tmp_path
):
    data_dir = shared_data / "faces" / "wflw"
    # Step 7 is mid-way through the second epoch (steps 6 to 10); the last checkpoint is 6.
    reference = _run(data_dir, tmp_path / "reference")
    victim = _run(data_dir, tmp_path / "killed", 7)
    _, stderr = victim.communicate(timeout=TIMEOUT)
    assert victim.returncode == -signal.SIGKILL, f"the run was not killed:\n{stderr[-3000:]}"
    resumed = _run(data_dir, tmp_path / "killed")
    stdout, stderr = resumed.communicate(timeout=TIMEOUT)
    assert resumed.returncode == 0, stderr[-3000:]
    assert f"Resuming {str(tmp_path / 'killed')!r} at step 6 of 15." in stdout
    _, stderr = reference.communicate(timeout=TIMEOUT)
    assert reference.returncode == 0, stderr[-3000:]
    expected = weights_file_arrays(tmp_path / "reference" / "last.weights.h5")
    actual = weights_file_arrays(tmp_path / "killed" / "last.weights.h5")
    assert expected.keys() == actual.keys() and len(expected) > 10
    difference = max(float(np.max(np.abs(expected[k] - actual[k]))) for k in expected)
    assert difference == 0.0, f"resumed weights differ by up to {difference}"


@pytest.mark.parametrize("sync_bn", [True, False])
def test_the_landmark_task_builds_batch_norm_as_the_runtime_says(sync_bn):
    from hrnet_keras.landmarks import LandmarkConfig
    from hrnet_keras.training import ModelConfig, Recipe, RuntimeConfig

    recipe = Recipe(
        task=LandmarkConfig(dataset="aflw", input_size=64),
        model=ModelConfig(width=4, num_classes=19),
        runtime=RuntimeConfig(sync_bn=sync_bn),
    )
    model = recipe.build_task().build_model()
    norms = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert norms and all(n.synchronized == sync_bn for n in norms)
