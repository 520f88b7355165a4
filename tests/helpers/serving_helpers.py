"""Runs `fake_tf_serving.py` (a TF-only stand-in for TF Serving) on exported model folders."""

import contextlib
import json
import os
import pathlib
import subprocess
import sys

SERVER = pathlib.Path(__file__).resolve().parent / "fake_tf_serving.py"


@contextlib.contextmanager
def fake_tf_serving(models, cwd):
    """Serves `{name: model folder}`; yields `(url, report)`, the report being the server's
    first line (its port, the warm-up replay, whether hrnet_keras was imported)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    arguments = [f"{name}={folder}" for name, folder in models.items()]
    log_path = pathlib.Path(cwd) / "fake_tf_serving.log"
    log = open(log_path, "w")  # noqa: SIM115 (a file, not a pipe: a full pipe stalls the server)
    process = subprocess.Popen(
        [sys.executable, str(SERVER), *arguments],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"The fake server did not start: {log_path.read_text()[-3000:]}")
        report = json.loads(line)
        yield f"http://127.0.0.1:{report['port']}", report
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        log.close()
