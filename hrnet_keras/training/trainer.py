"""`train`, `evaluate` and `predict`: a recipe's Task driven by `model.fit` under a strategy.

A run directory (`model_dir`) holds:

- `recipe.json`: the recipe as trained, overrides applied; `run.json`: the data folder
  (see `hrnet_keras.training.run_folder`).
- `checkpoints/`: the resumable state (model and optimizer), every
  `runtime.checkpoint_every_steps` steps and at each epoch's end.
- `last.weights.h5` / `best.weights.h5`: weights after the last epoch / after the epoch of
  lowest mean training loss.
- `logs/`: TensorBoard summaries (when the `tensorboard` package is installed).

Running the same `train` again on the same `model_dir` resumes from the last checkpoint: the
step counter and optimizer state are restored and the training data skips the batches
already consumed, so that, with the deterministic pipelines of this library (examples keyed
by seed, epoch and index), a killed and resumed run ends with the weights of an uninterrupted
one. Skipped batches are still read and augmented (tf.data cannot jump ahead), which takes
a fraction of the time their training took.
"""

import copy
import dataclasses
import importlib.util
import os

import keras

from hrnet_keras.models.weights import load_weights
from hrnet_keras.training.callbacks import TrainingCheckpoint
from hrnet_keras.training.checkpoint import CheckpointManager
from hrnet_keras.training.distribution import create_strategy, is_chief, per_replica_batch_size
from hrnet_keras.training.multi_worker import patch_for_multi_worker
from hrnet_keras.training.optimizers import build_optimizer
from hrnet_keras.training.run_folder import write_run_files
from hrnet_keras.training.runtime import training_runtime


@dataclasses.dataclass
class TrainingRun:
    """What `train` returns.

    Attributes:
        model: the trained model; after a NaN stop, the last checkpoint's weights (if one
            was written before the loss diverged).
        history: `{metric: [value per epoch trained by this call]}`.
        task: the recipe's `Task`.
        steps: optimizer steps done in total (including those of earlier, resumed runs).
        nan_step: the step whose loss was NaN or infinite, or None.
    """

    model: keras.Model
    history: dict
    task: object
    steps: int
    nan_step: int | None = None


def steps_per_epoch(recipe, task, data_dir):
    """`runtime.steps_per_epoch`, or one pass over the training split."""
    runtime = recipe.runtime
    if runtime.steps_per_epoch is not None:
        if runtime.steps_per_epoch < 1:
            raise ValueError(
                "`runtime.steps_per_epoch` must be positive or None. "
                f"Received: steps_per_epoch={runtime.steps_per_epoch}"
            )
        return runtime.steps_per_epoch
    examples = task.num_train_examples(data_dir)
    if not examples:
        raise ValueError(
            f"The task cannot count the training examples in {os.fspath(data_dir)!r}; set "
            "`runtime.steps_per_epoch`. Received: steps_per_epoch=None"
        )
    return max(1, examples // runtime.global_batch_size)


def training_dataset(task, data_dir, strategy, global_batch_size, *, skip_steps=0):
    """The task's training data distributed over `strategy`, after `skip_steps` global steps.

    Each input pipeline (one per worker) gets `task.build_dataset(...,
    input_context=context)` at the per-replica batch size; a pipeline feeding several local
    replicas hands them consecutive batches, so one global step consumes that many batches.
    """
    per_replica_batch_size(global_batch_size, strategy)

    def dataset_fn(context):
        dataset = task.build_dataset(
            data_dir,
            training=True,
            batch_size=context.get_per_replica_batch_size(global_batch_size),
            input_context=context,
        )
        replicas_per_pipeline = context.num_replicas_in_sync // context.num_input_pipelines
        return dataset.skip(skip_steps * replicas_per_pipeline)

    return strategy.distribute_datasets_from_function(dataset_fn)


def _has_tensorboard():
    if importlib.util.find_spec("tensorboard") is None:
        print("TensorBoard is not installed (`pip install tensorboard`): no logs are written.")
        return False
    return True


def compile_model(model, task, optimizer):
    """Compiles `model` with the task's loss and metrics.

    A task whose model owns its loss (`build_loss()` returns None) compiles without one;
    the model must then override `keras.Model.compute_loss`, else it would train on nothing.
    """
    loss = task.build_loss()
    if loss is None and type(model).compute_loss is keras.Model.compute_loss:
        raise ValueError(
            f"{type(task).__name__}.build_loss returned None, so its model must compute its "
            "own loss (override `keras.Model.compute_loss`), which "
            f"{type(model).__name__} does not. Received: loss=None"
        )
    model.compile(optimizer=optimizer, loss=loss, metrics=task.build_metrics())


def _segments(start, epochs, steps):
    """`(first_epoch, last_epoch, start_step, steps_per_epoch)` of each `fit` call.

    A run resumed mid-epoch finishes that epoch with a short `fit`, then runs the others.
    """
    epoch, offset = divmod(start, steps)
    segments = []
    if offset:
        segments.append((epoch, epoch + 1, start, steps - offset))
        epoch += 1
    if epoch < epochs:
        segments.append((epoch, epochs, epoch * steps, steps))
    return segments


def train(recipe, data_dir, model_dir, *, strategy=None, callbacks=(), verbose="auto"):
    """Trains `recipe` on `data_dir`, writing checkpoints and weights to `model_dir`.

    Resumes from `model_dir`'s last checkpoint when there is one (see the module docstring).

    Args:
        recipe: a `Recipe` (after overrides).
        data_dir: the dataset root the task reads.
        model_dir: the run directory (created). In a multi-worker cluster it must be shared
            storage: the chief writes it and every worker resumes from it.
        strategy: a `tf.distribute.Strategy`; default from `recipe.runtime.distribution`.
        callbacks: extra Keras callbacks.
        verbose: `model.fit`'s: `"auto"` / 1 shows the progress bar with its ETA.

    Returns:
        A `TrainingRun`.
    """
    runtime = recipe.runtime
    model_dir = os.fspath(model_dir)
    # A multi-worker strategy must exist before anything initialises TensorFlow's runtime.
    strategy = strategy or create_strategy(runtime.distribution)
    with training_runtime(runtime):
        per_replica_batch_size(runtime.global_batch_size, strategy)
        task = recipe.build_task()
        task.prepare(data_dir=data_dir)
        steps = steps_per_epoch(recipe, task, data_dir)
        total_steps = runtime.epochs * steps
        chief = is_chief(strategy)
        with strategy.scope():
            model = task.build_model()
            patch_for_multi_worker(model, strategy)
            optimizer = build_optimizer(
                recipe.optimizer, total_steps=total_steps, steps_per_epoch=steps, model=model
            )
            compile_model(model, task, optimizer)
            optimizer.build(model.trainable_variables)
        manager = CheckpointManager(os.path.join(model_dir, "checkpoints"))
        state = manager.restore(model) or {"step": 0, "best_loss": None}
        start = int(optimizer.iterations.numpy())
        if chief:
            os.makedirs(model_dir, exist_ok=True)
            write_run_files(recipe, model_dir, data_dir, task.run_files())
        if start:
            print(f"Resuming {model_dir!r} at step {start} of {total_steps}.")
        checkpoint = TrainingCheckpoint(
            manager,
            model_dir,
            every_steps=runtime.checkpoint_every_steps,
            best_loss=state["best_loss"],
            write=chief,
        )
        all_callbacks = [checkpoint, *task.build_callbacks(), *callbacks]
        if chief and _has_tensorboard():
            all_callbacks.append(
                keras.callbacks.TensorBoard(
                    os.path.join(model_dir, "logs"), update_freq=min(100, steps)
                )
            )
        history = {}
        for first_epoch, end_epoch, start_step, epoch_steps in _segments(
            start, runtime.epochs, steps
        ):
            dataset = training_dataset(
                task, data_dir, strategy, runtime.global_batch_size, skip_steps=start_step
            )
            fit = model.fit(
                dataset,
                initial_epoch=first_epoch,
                epochs=end_epoch,
                steps_per_epoch=epoch_steps,
                callbacks=all_callbacks,
                verbose=verbose,
                shuffle=False,
            )
            for key, values in fit.history.items():
                history.setdefault(key, []).extend(values)
            if checkpoint.nan_step is not None:
                manager.restore(model)
                break
        return TrainingRun(
            model=model,
            history=history,
            task=task,
            steps=int(optimizer.iterations.numpy()),
            nan_step=checkpoint.nan_step,
        )


def load_trained_model(recipe, weights, *, task=None, data_dir=None):
    """`(model, task)`: the recipe's model with `weights`, and the recipe's task.

    `weights` is a `.weights.h5`, `.keras` or PyTorch checkpoint file; `recipe.model.weights`
    and `recipe.model.backbone_weights` (the initial weights of training) are not loaded first.
    The task is prepared with the weights file (and `data_dir`) first.
    """
    recipe = copy.deepcopy(recipe)
    recipe.model.weights = None
    recipe.model.backbone_weights = None
    if task is None:
        task = recipe.build_task()
    else:
        # The given task builds from this recipe too, without the initial weights.
        task = copy.copy(task)
        task.recipe = recipe
    task.prepare(data_dir=data_dir, weights=weights)
    return load_weights(task.build_model(), weights), task


def evaluate(recipe, data_dir, weights, *, task=None):
    """Runs the task's evaluation protocol on `weights`; returns the metrics dict."""
    model, task = load_trained_model(recipe, weights, task=task, data_dir=data_dir)
    return task.evaluate(model, data_dir)


def predict(recipe, weights, inputs, out_dir, *, task=None, **options):
    """Predicts on `inputs` with `weights`; returns the paths `task.predict` wrote.

    The task checks `options` (`check_predict_options`) before the model is built.
    """
    task = task or recipe.build_task()
    task.check_predict_options(**options)
    model, task = load_trained_model(recipe, weights, task=task)
    return task.predict(model, inputs, out_dir, **options)
