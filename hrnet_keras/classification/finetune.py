"""Fine-tuning a classifier: starting from a checkpoint with another head, and training the
new head alone for the first epochs."""

import os

import h5py
import keras

from hrnet_keras.models.weights import KERAS_SUFFIXES, TORCH_SUFFIXES

HEAD = "predictions"


def _weighted_layers(model):
    return {layer.name: layer for layer in model.layers if layer.weights}


def _copy_layers(source, target, *, skip_head, path):
    """Copies every weighted layer of `target` from the layer of the same name in `source`
    (all but `HEAD` when `skip_head`), checking names and shapes."""
    available = _weighted_layers(source)
    missing, assignments = [], []
    for name, layer in _weighted_layers(target).items():
        if skip_head and name == HEAD:
            continue
        if name not in available:
            missing.append(name)
            continue
        values = available[name].get_weights()
        shapes = [tuple(v.shape) for v in layer.weights]
        if [tuple(v.shape) for v in values] != shapes:
            raise ValueError(
                f"{path!r}: the layer {name!r} holds weights of shapes "
                f"{[tuple(v.shape) for v in values]}, the model's are {shapes} (another width?). "
                f"Received: path={path!r}"
            )
        assignments.append((layer, values))
    if missing:
        raise ValueError(
            f"{path!r} is not a checkpoint of this classifier: it lacks the layers "
            f"{missing[:8]}{' ...' if len(missing) > 8 else ''}. Received: path={path!r}"
        )
    for layer, values in assignments:
        layer.set_weights(values)


def weights_file_classes(path):
    """The class count of the dense head stored in a `.weights.h5` file (its one 2-D
    weight: the convolutions are 4-D, batch norm 1-D)."""
    matrices = []
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda _, item: (
                matrices.append(item.shape)
                if isinstance(item, h5py.Dataset) and len(item.shape) == 2
                else None
            )
        )
    if len(matrices) != 1:
        raise ValueError(
            f"{path!r} does not hold one dense head (found {len(matrices)} 2-D weights). "
            f"Received: path={path!r}"
        )
    return matrices[0][1]


def load_pretrained(model, path, build_like):
    """Fills a classifier from a checkpoint of the same architecture, all of it when the
    heads agree, else all but the dense head `predictions` (left as initialised: a new head
    for fine-tuning), and says so.

    Args:
        model: a `hrnet_classifier` model.
        path: `.keras`, `.weights.h5`, or a PyTorch checkpoint (`.pth`, `.safetensors`, ...)
            converted on the fly.
        build_like: `build_like(num_classes)` builds the same classifier with another head
            (to read a `.weights.h5` file of another head size).

    Returns:
        The checkpoint's class count (None when it has no head).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"`model.weights` names no file. Received: weights={path!r}")
    units = model.get_layer(HEAD).units
    if path.endswith(TORCH_SUFFIXES):
        from hrnet_keras.convert import canonicalize, detect, fill_model, read_checkpoint

        checkpoint = canonicalize(read_checkpoint(path))
        classes = detect(checkpoint, path).num_classes
        fill_model(model, checkpoint, drop_head=classes != units, path=path)
    elif path.endswith(".keras"):
        source = keras.saving.load_model(path, compile=False)
        classes = source.get_layer(HEAD).units if HEAD in _weighted_layers(source) else None
        _copy_layers(source, model, skip_head=classes != units, path=path)
    elif path.endswith(KERAS_SUFFIXES):
        classes = weights_file_classes(path)
        if classes == units:
            model.load_weights(path)
        else:
            twin = build_like(classes)
            twin.load_weights(path)
            _copy_layers(twin, model, skip_head=True, path=path)
    else:
        raise ValueError(
            f"`model.weights` must end with one of {KERAS_SUFFIXES + TORCH_SUFFIXES}. "
            f"Received: weights={path!r}"
        )
    if classes != units:
        print(
            f"Loaded {path} into every layer but the head `{HEAD}` (its {classes} classes, "
            f"{units} here): the new head starts from random weights."
        )
    return classes


class FreezeBackbone(keras.callbacks.Callback):
    """Trains only the head for the first `epochs` epochs, then every layer.

    Frozen layers (`trainable=False`) keep their weights, and their batch normalisation
    runs on its moving statistics without updating them. The trainer builds the optimizer
    for every layer before training, so unfreezing needs no new optimizer; the compiled
    train function is rebuilt whenever the set of trainable weights changes. The decision
    is made per epoch, so a resumed run freezes exactly the epochs an unbroken one does.

    Args:
        epochs: epochs trained with the backbone frozen.
        head: names of the layers that always train.
    """

    def __init__(self, epochs, head=(HEAD,)):
        super().__init__()
        self.epochs = int(epochs)
        self.head = tuple(head)
        self._frozen = []

    def _freeze(self, frozen):
        if frozen and not self._frozen:
            self._frozen = [
                layer
                for layer in self.model.layers
                if layer.weights and layer.trainable and layer.name not in self.head
            ]
            for layer in self._frozen:
                layer.trainable = False
            print(f"Training only {', '.join(self.head)}: {len(self._frozen)} layers frozen.")
        elif not frozen and self._frozen:
            for layer in self._frozen:
                layer.trainable = True
            print(f"Unfroze {len(self._frozen)} layers: training every layer.")
            self._frozen = []
        else:
            return
        self.model.make_train_function(force=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._freeze(epoch < self.epochs)

    def on_train_end(self, logs=None):
        self._freeze(False)
