"""The `weights=` argument of the builders: a Keras file or a published PyTorch checkpoint."""

import os

KERAS_SUFFIXES = (".keras", ".weights.h5")
TORCH_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")


def load_weights(model, weights):
    """Fills `model` from `weights` (None leaves the random initialisation).

    `.keras` and `.weights.h5` files are read by Keras; PyTorch checkpoints (`.pth`, `.pt`,
    `.bin`, `.safetensors`) are converted on the fly by `hrnet_keras.convert`, strictly.
    """
    if weights is None:
        return model
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"`weights` must be an existing file. Received: weights={path!r}")
    if path.endswith(KERAS_SUFFIXES):
        model.load_weights(path)
    elif path.endswith(TORCH_SUFFIXES):
        from hrnet_keras.convert import load_torch_weights

        load_torch_weights(model, path)
    else:
        raise ValueError(
            f"`weights` must end with one of {KERAS_SUFFIXES + TORCH_SUFFIXES}. "
            f"Received: weights={path!r}"
        )
    return model
