"""Resumable training state on disk, written so that a kill at any moment loses nothing else.

Layout under `model_dir/checkpoints/`:

- `ckpt-{step}/state.weights.h5`: model weights and optimizer state (step counter, momenta)
  after `step` optimizer steps.
- `latest.json`: `{"step": ..., "directory": "ckpt-...", "best_loss": ...}`, replaced
  atomically (`hrnet_keras.utils.atomic_path`) only after the directory it names is complete;
  older directories are deleted afterwards. A process killed while saving leaves the previous
  checkpoint intact and at worst an orphan `ckpt-*` folder, which the next save removes.
"""

import json
import os
import shutil

from hrnet_keras.utils.atomic import atomic_path

LATEST = "latest.json"
WEIGHTS = "state.weights.h5"


def save_weights_atomically(model, path):
    """`model.save_weights(path)` through a temporary file, so `path` is always whole."""
    with atomic_path(path) as partial:
        model.save_weights(partial)


class CheckpointManager:
    """Saves and restores the training state of one run directory.

    Example:
    >>> import keras, tempfile
    >>> from hrnet_keras.training.checkpoint import CheckpointManager
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> manager = CheckpointManager(tempfile.mkdtemp())
    >>> manager.restore(model) is None  # nothing saved yet
    True
    >>> manager.save(model, step=10, best_loss=0.5)
    >>> manager.restore(model)["step"]
    10
    """

    def __init__(self, directory):
        self.directory = os.fspath(directory)

    def latest(self):
        """The state of the last complete checkpoint, or None."""
        path = os.path.join(self.directory, LATEST)
        if not os.path.isfile(path):
            return None
        with open(path) as f:
            try:
                state = json.load(f)
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"The checkpoint index {path!r} is not valid JSON ({error}); delete the "
                    f"run directory to start over. Received: {path}"
                ) from error
        return state

    def save(self, model, *, step, best_loss=None):
        """Writes the model and optimizer state after `step` steps."""
        name = f"ckpt-{int(step):09d}"
        latest = self.latest()
        if latest is None or latest["directory"] != name:
            # Weights of this step already on disk (a mid-epoch save at an epoch's end) are
            # kept as they are; only the index is rewritten.
            directory = os.path.join(self.directory, name)
            if os.path.isdir(directory):
                shutil.rmtree(directory)
            os.makedirs(directory)
            model.save_weights(os.path.join(directory, WEIGHTS))
        state = {"step": int(step), "directory": name, "best_loss": best_loss}
        with atomic_path(os.path.join(self.directory, LATEST)) as partial, open(partial, "w") as f:
            json.dump(state, f, indent=2)
        for other in os.listdir(self.directory):
            if other.startswith("ckpt-") and other != name:
                shutil.rmtree(os.path.join(self.directory, other), ignore_errors=True)

    def restore(self, model):
        """Loads the last checkpoint into `model` (compiled, optimizer built); returns its state.

        Returns None, and leaves `model` alone, when there is no checkpoint.
        """
        state = self.latest()
        if state is None:
            return None
        path = os.path.join(self.directory, state["directory"], WEIGHTS)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"The checkpoint index names {path!r}, which is missing. Received: {path}"
            )
        model.load_weights(path)
        return state
