"""The interface every task implements, and the trainer consumes."""

import abc


class Task(abc.ABC):
    """How one task builds its model, data, loss and metrics, evaluates and predicts.

    The trainer calls these inside the distribution strategy's scope; nothing here creates a
    strategy or runs `fit`.
    """

    def __init__(self, recipe):
        self.recipe = recipe

    @abc.abstractmethod
    def build_model(self):
        """The trainable `keras.Model` (raw logits / heatmaps out)."""

    @abc.abstractmethod
    def build_dataset(self, data_dir, *, training, batch_size, input_context=None):
        """A `tf.data.Dataset` of `(inputs, targets)` batches of `batch_size`.

        With `input_context` (a `tf.distribute.InputContext`), the dataset is this input
        pipeline's shard and `batch_size` is per replica. Training datasets repeat, shuffle
        and augment deterministically from `recipe.runtime.seed`; evaluation ones do not.
        """

    @abc.abstractmethod
    def build_loss(self):
        """The loss given to `compile`."""

    def build_metrics(self):
        """Metrics given to `compile` (cheap, streaming; the paper's protocol is `evaluate`)."""
        return []

    def num_train_examples(self, data_dir):
        """Size of the training split, for `steps_per_epoch=None`; None if unknown."""
        return None

    @abc.abstractmethod
    def evaluate(self, model, data_dir):
        """Runs the paper's evaluation protocol; returns a JSON-serialisable dict of metrics."""

    @abc.abstractmethod
    def predict(self, model, inputs, out_dir, **options):
        """Predicts on input files, writes pictures a person can check; returns their paths."""

    def serving_model(self, model):
        """What an exported SavedModel serves: preprocessing and decoding inside the graph.

        Default: the model itself.
        """
        return model
