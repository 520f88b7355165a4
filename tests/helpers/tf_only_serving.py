"""Runs an exported classifier's SavedModel in a child process that cannot import
hrnet_keras (TensorFlow alone, as TF Serving's clients have it)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
from PIL import Image

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
    signatures = tf.saved_model.load(sys.argv[1]).signatures
    answers = {}
    for signature, images in (
        ("serving_default", tf.constant(np.load(sys.argv[2]))),
        ("serving_bytes", tf.constant([open(p, "rb").read() for p in sys.argv[3:]])),
    ):
        outputs = signatures[signature](images=images)
        answers[signature] = {
            "labels": [[v.decode() for v in row] for row in outputs["labels"].numpy()],
            "probabilities": outputs["probabilities"].numpy().tolist(),
        }
    assert not any(name.startswith("hrnet_keras") for name in sys.modules)
    print(json.dumps(answers))
    """
)


def serve_without_hrnet_keras(path, batch, folder):
    """`{"serving_default": answer, "serving_bytes": answer}`: each signature's
    `{"labels": [[str]], "probabilities": [[float]]}` for the uint8 `batch` (the second as
    PNG files of it, which decode to the same pixels), from a TensorFlow-only process."""
    np.save(os.path.join(folder, "batch.npy"), batch)
    files = []
    for i, image in enumerate(batch):
        files.append(os.path.join(folder, f"served_{i}.png"))
        Image.fromarray(image).save(files[-1])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, os.fspath(path), os.path.join(folder, "batch.npy"), *files],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
