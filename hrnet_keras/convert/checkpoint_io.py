"""Reading checkpoint files into a flat `{key: numpy array}` dict, without unpickling code."""

import os

import numpy as np

INSTALL_HINT = "pip install hrnet_keras[convert]"
# Where training scripts nest the weights inside the object they save, most specific first.
NESTING_KEYS = ("state_dict", "model_state_dict", "model", "module", "net")


def _import_torch(path):
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            f"Reading the PyTorch checkpoint {path!r} needs torch; install it with "
            f"`{INSTALL_HINT}` (or convert the file to .safetensors, which only needs the "
            "`safetensors` package)."
        ) from error
    return torch


def _read_torch(path):
    torch = _import_torch(path)
    try:
        # weights_only: a downloaded file is data, never code to run.
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"Could not read {path!r} as a PyTorch checkpoint (truncated download, not a "
            f"checkpoint, or a pickle holding more than tensors and plain values): {error}. "
            "If the file is trusted and holds other Python objects, load it yourself and "
            "save its state dict alone. "
            f"Received: path={path!r}"
        ) from error


def _read_safetensors(path):
    try:
        from safetensors.numpy import load_file
    except ImportError as error:
        raise ImportError(
            f"Reading {path!r} needs the `safetensors` package; install it with `{INSTALL_HINT}`."
        ) from error
    try:
        return load_file(path)
    except Exception as error:
        raise ValueError(
            f"Could not read {path!r} as a safetensors file (truncated or not a safetensors "
            f"file): {error}. Received: path={path!r}"
        ) from error


def _is_tensor(value):
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _to_numpy(value):
    if isinstance(value, np.ndarray):
        return value.astype(np.float32, copy=False) if value.dtype.kind == "f" else value
    # A torch tensor; bfloat16/half checkpoints are widened, as Keras weights are float32.
    value = value.detach().cpu()
    if value.is_floating_point():
        value = value.float()
    return value.numpy()


def unnest_state_dict(obj, path="<checkpoint>"):
    """Finds the `{name: tensor}` mapping inside what a training script saved.

    Accepts a bare state dict or one nested (possibly repeatedly) under `state_dict`,
    `model_state_dict`, `model`, `module` or `net`, as training loops save them together
    with epochs and optimiser states.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.convert import unnest_state_dict
    >>> saved = {"epoch": 3, "state_dict": {"conv1.weight": np.zeros((64, 3, 3, 3))}}
    >>> sorted(unnest_state_dict(saved))
    ['conv1.weight']
    """
    for _ in range(4):
        if not isinstance(obj, dict):
            break
        if obj and all(_is_tensor(v) for v in obj.values()):
            return obj
        nested = next(
            (obj[k] for k in NESTING_KEYS if isinstance(obj.get(k), dict) and obj[k]), None
        )
        if nested is None:
            break
        obj = nested
    if isinstance(obj, dict):
        tensors = {k: v for k, v in obj.items() if isinstance(k, str) and _is_tensor(v)}
        if tensors:
            return tensors
    raise ValueError(
        f"{path!r} holds no state dict: expected a mapping from parameter names to tensors, "
        f"bare or under one of {NESTING_KEYS}. Received: an object of type "
        f"{type(obj).__name__}"
        + (f" with keys {sorted(map(str, obj))[:8]}" if isinstance(obj, dict) else "")
    )


def read_checkpoint(path):
    """Reads a `.pth`/`.pt`/`.bin` (PyTorch) or `.safetensors` file.

    PyTorch files are opened with `torch.load(..., map_location="cpu", weights_only=True)`.

    Args:
        path: the checkpoint file.

    Returns:
        A dict from parameter names to float32 (or integer) numpy arrays.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No checkpoint file at {path!r}. Received: path={path!r}")
    obj = _read_safetensors(path) if path.endswith(".safetensors") else _read_torch(path)
    state = unnest_state_dict(obj, path)
    return {key: _to_numpy(value) for key, value in state.items()}
