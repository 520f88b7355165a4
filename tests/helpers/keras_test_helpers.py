"""Helpers shared by the model tests."""

import numpy as np


def randomize_batch_norm(model, seed=0):
    """Gives every BatchNormalization layer non-trivial statistics and affine parameters."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.__class__.__name__ != "BatchNormalization":
            continue
        gamma, beta, mean, variance = layer.get_weights()
        layer.set_weights(
            [
                rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                rng.normal(0.0, 0.2, beta.shape).astype("float32"),
                rng.normal(0.0, 0.2, mean.shape).astype("float32"),
                rng.uniform(0.5, 1.5, variance.shape).astype("float32"),
            ]
        )
    return model


def relative_error(actual, expected):
    """max |actual - expected| / max |expected|."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-12))


def as_list(outputs):
    """A model's outputs (tensor or dict) as a list of numpy arrays, dict keys sorted."""
    if isinstance(outputs, dict):
        return [np.asarray(outputs[k]) for k in sorted(outputs)]
    return [np.asarray(outputs)]


def trainable_parameters(model):
    """PyTorch's parameter count: trainable weights only (no BN moving statistics)."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def weights_file_arrays(path):
    """`{dataset name: array}` of every dataset in a `.weights.h5` file."""
    import h5py

    arrays = {}
    with h5py.File(path) as f:
        f.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None
            )
        )
    return arrays
