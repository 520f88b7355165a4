"""Distribution, in subprocesses: 2 logical CPUs vs 1, a 2-worker cluster, a killed run."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from keras_test_helpers import weights_file_arrays

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HELPERS = os.path.join(ROOT, "tests", "helpers")
RUNNER = os.path.join(HELPERS, "distributed_runner.py")
RECIPE = os.path.join(HELPERS, "toy_recipe.py")
TIMEOUT = 240


def _env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.pathsep.join([ROOT, HELPERS]))
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _check(process, what):
    assert process.returncode == 0, f"{what} failed:\n{process.stdout}\n{process.stderr[-3000:]}"


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_mirrored_devices_match_one_device_at_the_same_global_batch(tmp_path):
    out = tmp_path / "curves.json"
    done = subprocess.run(
        [sys.executable, RUNNER, "devices", str(out)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    _check(done, "the devices run")
    result = json.loads(out.read_text())
    assert result["one_device_replicas"] == 1 and result["mirrored_replicas"] == 2
    assert len(result["mirrored"]) == len(result["one_device"]) == 6
    np.testing.assert_allclose(result["mirrored"], result["one_device"], rtol=1e-5, atol=1e-6)
    assert result["max_weight_difference"] < 1e-5


def _run_cluster(tmp_path, *extra, timeout=TIMEOUT):
    """Runs two local workers; returns their `(returncode, stdout, stderr)`."""
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        command = [sys.executable, RUNNER, "worker", str(tmp_path / f"w{index}.npz")]
        workers.append(
            subprocess.Popen(
                [*command, str(tmp_path), *extra],
                env=_env(TF_CONFIG=tf_config),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    try:
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=timeout)
            results.append((worker.returncode, stdout, stderr))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    return results


def test_two_workers_train_to_identical_weights(tmp_path):
    for index, (returncode, stdout, stderr) in enumerate(_run_cluster(tmp_path)):
        assert returncode == 0, f"worker {index} failed:\n{stdout}\n{stderr[-3000:]}"
    first, second = np.load(tmp_path / "w0.npz"), np.load(tmp_path / "w1.npz")
    assert len(first["losses"]) == 6 and np.all(np.isfinite(first["losses"]))
    np.testing.assert_array_equal(first["losses"], second["losses"])
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key])
    # Only the chief (worker 0) writes the run folder.
    assert json.loads((tmp_path / "checkpoints" / "latest.json").read_text())["step"] == 6


def test_without_the_shim_keras_fit_fails_under_a_multi_worker_strategy(tmp_path):
    """When this fails, Keras has fixed `fit` under MultiWorkerMirroredStrategy: drop the shim."""
    for returncode, _, stderr in _run_cluster(tmp_path, "unpatched", timeout=120):
        assert returncode != 0
        assert "PerReplica" in stderr or "Invalid reduction dimension" in stderr, stderr[-3000:]


def _train_command(model_dir, *extra):
    return [
        sys.executable,
        "-m",
        "hrnet_keras",
        "train",
        RECIPE,
        "--data-dir",
        str(model_dir.parent),  # the toy task reads nothing, but the folder must exist
        "--model-dir",
        str(model_dir),
        "--verbose",
        "2",
        "--set",
        "runtime.epochs=3",
        "--set",
        "runtime.steps_per_epoch=5",
        "--set",
        "runtime.checkpoint_every_steps=2",
        *extra,
    ]


def test_a_run_killed_mid_epoch_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path):
    reference = subprocess.Popen(
        _train_command(tmp_path / "reference"),
        env=_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed_dir = tmp_path / "killed"
    # Slow batches (the data do not change) leave time to kill it between two checkpoints.
    command = _train_command(killed_dir, "--set", "task.batch_delay=0.4")
    victim = subprocess.Popen(command, env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL)
    latest = killed_dir / "checkpoints" / "latest.json"
    deadline = time.monotonic() + TIMEOUT
    step = 0
    try:
        while time.monotonic() < deadline and victim.poll() is None:
            if latest.exists():
                step = json.loads(latest.read_text())["step"]
                if step >= 6:  # mid-way through the second epoch (steps 6 to 10)
                    break
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert victim.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert step in (6, 8), f"killed after the checkpoint of step {step}, not mid-epoch"
    resumed = subprocess.run(
        command, env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT
    )
    _check(resumed, "the resumed run")
    assert f"Resuming {str(killed_dir)!r} at step {step} of 15." in resumed.stdout
    _, stderr = reference.communicate(timeout=TIMEOUT)
    assert reference.returncode == 0, stderr[-3000:]
    expected = weights_file_arrays(tmp_path / "reference" / "last.weights.h5")
    actual = weights_file_arrays(killed_dir / "last.weights.h5")
    assert expected.keys() == actual.keys()
    difference = max(float(np.max(np.abs(expected[k] - actual[k]))) for k in expected)
    assert difference == 0.0, f"resumed weights differ by up to {difference}"


@pytest.fixture(autouse=True)
def _no_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
