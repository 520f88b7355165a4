"""The trainer's callback: periodic checkpoints, best and last weights, and the NaN stop."""

import math
import os

import keras

from hrnet_keras.training.checkpoint import save_weights_atomically

BEST = "best.weights.h5"
LAST = "last.weights.h5"


class TrainingCheckpoint(keras.callbacks.Callback):
    """Checkpoints every `every_steps` optimizer steps and at each epoch's end.

    At each epoch's end it also writes `last.weights.h5` and, when the epoch's mean training
    loss is the lowest so far, `best.weights.h5`. When the loss turns NaN or infinite, it stops
    training at once and writes nothing more, so that the last checkpoint and weights on disk
    are the last good ones; `nan_step` then holds the step at which it happened.

    Args:
        manager: the run's `CheckpointManager`.
        model_dir: where `best.weights.h5` and `last.weights.h5` go.
        every_steps: steps between mid-epoch checkpoints (0 for epoch ends only).
        best_loss: best epoch loss of the run so far (after a resume).
        write: False on the workers of a cluster other than the chief, which only watch for
            NaN.

    Example:
    >>> import tempfile
    >>> from hrnet_keras.training.callbacks import TrainingCheckpoint
    >>> from hrnet_keras.training.checkpoint import CheckpointManager
    >>> d = tempfile.mkdtemp()
    >>> TrainingCheckpoint(CheckpointManager(d), d, every_steps=100).nan_step is None
    True
    """

    def __init__(self, manager, model_dir, *, every_steps, best_loss=None, write=True):
        super().__init__()
        self.manager = manager
        self.model_dir = os.fspath(model_dir)
        self.every_steps = int(every_steps or 0)
        self.best_loss = best_loss
        self.write = write
        self.nan_step = None

    def _step(self):
        return int(self.model.optimizer.iterations.numpy())

    def _save(self):
        if self.write:
            self.manager.save(self.model, step=self._step(), best_loss=self.best_loss)

    def on_train_batch_end(self, batch, logs=None):
        if self.nan_step is not None:
            return
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.nan_step = self._step()
            self.model.stop_training = True
            print(
                f"\nThe training loss is {float(loss)} at step {self.nan_step}: stopping; the "
                "last checkpoint and weights on disk are the last good ones."
            )
            return
        if self.every_steps and self._step() % self.every_steps == 0:
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        if self.nan_step is not None:
            return
        loss = (logs or {}).get("loss")
        if loss is not None:
            loss = float(loss)
            if self.best_loss is None or loss < self.best_loss:
                self.best_loss = loss
                if self.write:
                    save_weights_atomically(self.model, os.path.join(self.model_dir, BEST))
        if self.write:
            save_weights_atomically(self.model, os.path.join(self.model_dir, LAST))
        self._save()
