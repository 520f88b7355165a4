"""The contract between a task and the code that drives it.

A task (segmentation, landmarks, ...) is a `Task` subclass plus a config dataclass, the
`task` part of a `Recipe`, registered with `register_task_config` so that a run's
`recipe.json` loads back. These call a task, and nothing else of it:

- the trainer (`hrnet_keras.training.trainer`): `prepare` (first), `build_model`,
  `build_loss`, `build_metrics`, `build_callbacks`, `build_dataset`, `num_train_examples`,
  `run_files`, `evaluate`, `predict` (after `check_predict_options`);
- the exporters (`hrnet_keras.export`, `hrnet-keras export`): `serving_signatures` (the
  SavedModel's signatures; by default made from `serving_model`), `serving_model` (TFLite),
  `calibration_data` and `float_layers` (int8 TFLite).

`build_model`, `build_dataset`, `build_loss` and `evaluate` are required. The rest have
defaults; `predict` and `calibration_data` are optional capabilities whose defaults raise a
`TaskCapabilityError` naming the task and what it lacks (`Task.supports` asks first).
"""

import abc

from hrnet_keras.errors import UsageError


class TaskCapabilityError(UsageError):
    """The task has no such capability (int8 calibration data, prediction pictures, an option).

    Example:
    >>> from hrnet_keras.training.task import TaskCapabilityError
    >>> issubclass(TaskCapabilityError, ValueError)
    True
    """


# Optional methods, and the words an error uses for what is missing.
CAPABILITIES = {
    "predict": "prediction on image files",
    "calibration_data": "int8 calibration data (`calibration_data`), so it cannot export an "
    "int8 TFLite file",
}


class Task(abc.ABC):
    """How one task builds its model, data, loss and metrics, evaluates, predicts and serves.

    The trainer calls the `build_*` methods inside the distribution strategy's scope; nothing
    here creates a strategy or runs `fit`.

    Attributes:
        recipe: the `Recipe`; `recipe.task` is the task's config dataclass.
        float_layers: names or glob patterns of layers of `serving_model(...)` whose ops stay
            float in an int8 TFLite file (`hrnet_keras.export.convert_to_tflite`); empty: all
            of the graph is quantised.
        export_formats: the `hrnet-keras export --format`s its `serving_model(...)` converts
            to.
    """

    float_layers = ()
    export_formats = ("savedmodel", "tflite")

    def __init__(self, recipe):
        self.recipe = recipe

    @property
    def name(self):
        """The task's class name, as errors name it."""
        return type(self).__name__

    @classmethod
    def supports(cls, capability):
        """Whether the task implements the optional method `capability` (see `CAPABILITIES`).

        Example:
        >>> from hrnet_keras.segmentation import SegmentationTask
        >>> SegmentationTask.supports("predict"), SegmentationTask.supports("calibration_data")
        (True, False)
        """
        if capability not in CAPABILITIES:
            raise ValueError(
                f"Optional task capabilities are {sorted(CAPABILITIES)}. "
                f"Received: capability={capability!r}"
            )
        return getattr(cls, capability) is not getattr(Task, capability)

    def require(self, capability):
        """Raises `TaskCapabilityError` unless the task `supports(capability)`."""
        if not self.supports(capability):
            raise TaskCapabilityError(
                f"{self.name} has no {CAPABILITIES[capability]}. Received: "
                f"task={self.name}, capability={capability!r}"
            )

    def reject_options(self, method, options):
        """Raises `TaskCapabilityError` naming `options` that `method` does not take."""
        if options:
            raise TaskCapabilityError(
                f"{self.name}.{method} takes no option {', '.join(sorted(options))}. "
                f"Received: {', '.join(f'{k}={v!r}' for k, v in sorted(options.items()))}"
            )

    def prepare(self, data_dir=None, weights=None):
        """Reads what `build_model` depends on, before it is called: `train` passes the data
        folder; `evaluate` the data folder and the weights file; `predict` and `export` the
        weights file. Default: nothing (a classifier reads its classes here, from a folder
        tree or the `classes.json` beside the weights)."""
        return

    def run_files(self):
        """`{file name: JSON-ready data}` that `train` writes into the run folder beside
        `recipe.json` (a classifier's `classes.json`). Default: none."""
        return {}

    @abc.abstractmethod
    def build_model(self):
        """The trainable `keras.Model` (raw logits / heatmaps out).

        The model may own its loss: a model that overrides `keras.Model.compute_loss` (a
        two-stage detector, whose targets depend on its own proposals) goes with a
        `build_loss` that returns None. Its `compute_loss` should add `sum(self.losses)`
        (or call `super().compute_loss`), where the L2 weight decay of the recipe lives.
        """

    @abc.abstractmethod
    def build_dataset(self, data_dir, *, training, batch_size, input_context=None):
        """A `tf.data.Dataset` of `(inputs, targets)` batches of `batch_size`.

        With `input_context` (a `tf.distribute.InputContext`), the dataset is this input
        pipeline's shard and `batch_size` is per replica. Training datasets repeat, shuffle
        and augment deterministically from `recipe.runtime.seed`; evaluation ones do not.
        """

    @abc.abstractmethod
    def build_loss(self):
        """The loss given to `compile`, or None when `build_model`'s model owns its loss."""

    def build_metrics(self):
        """Metrics given to `compile` (cheap, streaming; the paper's protocol is `evaluate`)."""
        return []

    def build_callbacks(self):
        """Keras callbacks `train` adds to `fit` (a classifier's backbone freeze). Default: none."""
        return []

    def num_train_examples(self, data_dir):
        """Size of the training split, for `steps_per_epoch=None`; None if unknown."""
        return None

    @abc.abstractmethod
    def evaluate(self, model, data_dir):
        """Runs the paper's evaluation protocol; returns a JSON-serialisable dict of metrics."""

    def predict(self, model, inputs, out_dir, **options):
        """Predicts on input files, writes pictures a person can check; returns their paths.

        Optional. `options` are the task's own keywords (`box` for landmarks); a task raises
        `UsageError` for one it lacks or needs and did not get.
        """
        self.require("predict")

    def check_predict_options(self, **options):
        """Raises `UsageError` for `predict` options it cannot work with (unknown ones, a
        missing one it needs); `predict` callers call it before loading the model, so that
        a mistake costs nothing. Default: `predict` takes no options."""
        self.require("predict")
        self.reject_options("predict", options)

    def serving_model(self, model, **options):
        """What an exported SavedModel or TFLite file serves: preprocessing and decoding
        inside the graph.

        Default: the model itself, with no options (a task lacking one raises
        `TaskCapabilityError`; landmarks take `heatmaps=True`).
        """
        self.reject_options("serving_model", options)
        return model

    def serving_signatures(self, model):
        """What an exported SavedModel serves: a `hrnet_keras.export.signatures.ServingSignatures`
        (named signatures, the Keras objects whose variables they use, the label map).

        Default: `serving_model(model)` as `serving_default` on uint8 `images`, plus
        `serving_bytes` on encoded files when the serving model has a `serve_bytes` method
        (`hrnet_keras.export.signatures.from_serving_model`). A task overrides it to serve
        more signatures or other inputs (a face box with the landmarks' photo).
        """
        from hrnet_keras.export.signatures import from_serving_model

        return from_serving_model(self.serving_model(model), labels=self.label_names())

    def label_names(self):
        """Class names in class order, written as a served model's label map; None if the
        task has none."""
        return None

    def calibration_data(self, data_dir, steps=200):
        """Optional: `steps` input batches of `serving_model`'s input (dtype and shape) from
        the data of `data_dir`, for int8 TFLite calibration."""
        self.require("calibration_data")
