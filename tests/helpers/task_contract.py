"""One check of the Task contract that every task's tests call (keras-hub's
`run_vision_backbone_test`, for Tasks): the model builds, one training batch gives a finite
loss that moves the weights, the paper's evaluation runs and returns JSON numbers, and the
serving model exports to a SavedModel that answers its own signature (finite numbers, and
text where the task serves names)."""

import json
import math

import keras
import numpy as np
import tensorflow as tf

from hrnet_keras.export import export_savedmodel
from hrnet_keras.training.trainer import compile_model


def _numbers(value):
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def _serving_inputs(signature, image_size):
    """Random uint8 images (and zeros for any other input) matching the signature."""
    rng = np.random.default_rng(0)
    inputs = {}
    for name, spec in signature.structured_input_signature[1].items():
        shape = [1 if i == 0 else (d or image_size) for i, d in enumerate(spec.shape)]
        if spec.dtype == tf.uint8:
            inputs[name] = tf.constant(rng.integers(0, 256, shape), tf.uint8)
        else:
            inputs[name] = tf.zeros(shape, spec.dtype)
    return inputs


def check_task_contract(recipe, data_dir, tmp_path, *, image_size=64):
    """Runs `recipe`'s task through what the trainer, `evaluate` and `export` call.

    Args:
        recipe: a small `Recipe` (tiny width, small inputs).
        data_dir: the dataset folder the task reads.
        tmp_path: a folder for the SavedModel.
        image_size: the size given to `None` dimensions of the serving signature.

    Returns:
        `(task, model, metrics)` for checks of the task's own.
    """
    task = recipe.build_task()
    task.prepare(data_dir=data_dir)
    model = task.build_model()
    assert isinstance(model, keras.Model)
    compile_model(model, task, keras.optimizers.SGD(learning_rate=1e-3))

    count = task.num_train_examples(data_dir)
    assert count is None or count >= 1
    images, targets = next(iter(task.build_dataset(data_dir, training=True, batch_size=1)))
    before = [np.array(w) for w in model.trainable_weights]
    logs = model.train_on_batch(images, targets, return_dict=True)
    assert math.isfinite(float(logs["loss"])), logs
    moved = sum(
        not np.array_equal(b, np.asarray(w)) for b, w in zip(before, model.trainable_weights)
    )
    assert moved > 0, "one training step changed no trainable weight"

    metrics = task.evaluate(model, data_dir)
    json.dumps(metrics, default=float)
    numbers = _numbers(metrics)
    assert numbers and all(math.isfinite(n) for n in numbers if n is not None), metrics

    # Folding BN is its own tests' subject; here the served graph is what matters.
    path = export_savedmodel(model, str(tmp_path / "savedmodel"), task=task, fold_bn=False)
    serving = tf.saved_model.load(path).signatures["serving_default"]
    outputs = serving(**_serving_inputs(serving, image_size))
    numeric = [v for v in outputs.values() if v.dtype != tf.string]  # a classifier's names
    assert numeric and all(np.all(np.isfinite(np.asarray(v, np.float64))) for v in numeric)
    return task, model, metrics
