"""SavedModel export for TensorFlow Serving: the task's signatures (`serving_default` on
uint8 images, `serving_bytes` on encoded files), warm-up records and the label map, written
atomically, as a bare folder or as the next version of a TF Serving model folder."""

import os
import re
import warnings

import keras
import tensorflow as tf

from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD
from hrnet_keras.data.normalization import normalize as normalize_images
from hrnet_keras.export.serving_inputs import check_uint8_images
from hrnet_keras.export.signatures import (
    ServingSignatures,
    Signature,
    float32_outputs,
    from_serving_model,
)
from hrnet_keras.export.warmup import serving_protos_installed, write_warmup_requests
from hrnet_keras.models.fold_batch_norm import fold_batch_norm, is_graph_model
from hrnet_keras.utils.atomic import atomic_path

INPUT_DTYPES = ("uint8", "float32")
LABELS_FILE = "labels.txt"


def _normalized_signatures(model, *, input_dtype, mean, std):
    """`serving_default` of a bare model behind the normalisation of training."""
    if len(model.inputs) != 1:
        raise ValueError(
            f"Only single-input models export to SavedModel. Received: {len(model.inputs)} inputs"
        )
    spec = tf.TensorSpec(tuple(model.inputs[0].shape), input_dtype, name="images")

    def serve(images):
        if input_dtype == "uint8":
            images = check_uint8_images(images)
        return float32_outputs(model(normalize_images(images, mean, std), training=False))

    return ServingSignatures([model], [Signature("serving_default", serve, [spec])])


def _write_archive(served, folder, warmup):
    archive = keras.export.ExportArchive()
    for resource in served.tracked:
        archive.track(resource)
    for signature in served.signatures:
        archive.add_endpoint(
            name=signature.name,
            fn=signature.function,
            input_signature=list(signature.input_signature),
        )
    archive.write_out(folder, verbose=False)
    if warmup:
        requests = [
            (signature.name, signature.example_request()) for signature in served.signatures
        ]
        write_warmup_requests(folder, requests)
    if served.labels is not None:
        # Beside the graph's own assets; no op reads it, a client or a person does.
        os.makedirs(os.path.join(folder, "assets"), exist_ok=True)
        with open(os.path.join(folder, "assets", LABELS_FILE), "w", encoding="utf-8") as f:
            f.write("".join(f"{name}\n" for name in served.labels))


def export_savedmodel(
    model,
    path,
    *,
    task=None,
    normalize=None,
    input_dtype="uint8",
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
    overwrite=True,
    fold_bn=True,
    warmup=None,
):
    """Writes a SavedModel that TensorFlow Serving serves as it is.

    With `task`, the signatures are `task.serving_signatures(model)`: the task's
    preprocessing and decoding inside the graph; `serving_default` takes uint8 RGB `images`
    (the segmentation task's returns logits at the input size) and, for the tasks that have
    one, `serving_bytes` takes `images`, a batch of encoded JPEG / PNG files of any sizes
    (docs/export.md lists every task's inputs and outputs). Without `task`, the one
    signature, `serving_default`, is `model` behind the normalisation of training:
    `(images / 255 - mean) / std` of `uint8` images (or of `float32` ones in [0, 255] with
    `input_dtype="float32"`), returning a dict of float32 tensors (`outputs` when the model
    returns one tensor). HRNet needs heights and widths that are multiples of 32 unless the
    task's graph pads or resizes.

    The folder also holds `assets.extra/tf_serving_warmup_requests`, one small request per
    signature that TF Serving replays before it serves the model, and, when the task has
    class names, `assets/labels.txt` (one name a line, in class order). It is written
    through `keras.export.ExportArchive` (whose variables TF Serving's Session loader finds)
    to a temporary folder beside `path`, then renamed: `path` is either the complete
    previous artifact or the complete new one, never half of one.
    `export_model_version` writes a version of a TF Serving model folder.

    Args:
        model: a Keras model.
        path: the SavedModel folder.
        task: the `Task` whose `serving_signatures` are exported, or None.
        normalize: without `task`, normalise inside the graph (default True; False serves
            `model` as it is, a model that is not a functional graph declaring its input as
            `input_signature`, a one-element sequence of `tf.TensorSpec`).
        input_dtype: `"uint8"` or `"float32"` images, when `normalize`.
        mean / std: the normalisation (ImageNet's RGB statistics by default).
        overwrite: replace an existing artifact at `path`.
        fold_bn: fold batch normalisation into the preceding convolutions
            (`hrnet_keras.models.fold_batch_norm`): the served graph runs about a quarter
            faster and gives the same outputs to float rounding, but cannot be fine-tuned.
            A subclassed model, which has no layer graph to fold, is exported as it is.
        warmup: write the warm-up requests; None: when `tensorflow-serving-api` is
            installed (else with a warning), True: required.

    Returns:
        `path`.

    Example:
    >>> import tempfile, os, numpy as np, tensorflow as tf, keras
    >>> from hrnet_keras.export import export_savedmodel
    >>> model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 1)])
    >>> path = export_savedmodel(model, os.path.join(tempfile.mkdtemp(), "model"))
    >>> served = tf.saved_model.load(path).signatures["serving_default"]
    >>> served(images=tf.zeros((1, 32, 32, 3), tf.uint8))["outputs"].shape
    TensorShape([1, 32, 32, 2])
    """
    path = os.path.abspath(os.fspath(path))
    if input_dtype not in INPUT_DTYPES:
        raise ValueError(
            f"`input_dtype` must be one of {INPUT_DTYPES}. Received: input_dtype={input_dtype!r}"
        )
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(
            f"A file or folder exists at the export path. Received: path={path!r}"
        )
    if normalize is None:
        normalize = task is None
    if normalize and task is not None:
        raise ValueError(
            "A task's serving graph normalises its own input: `normalize` applies to exports "
            f"without `task`. Received: normalize=True, task={type(task).__name__}"
        )
    if fold_bn and is_graph_model(model):
        # Before the task wraps it: folding sees the Conv2D/BN pairs of one functional graph.
        model = fold_batch_norm(model)
    if task is not None and hasattr(task, "serving_signatures"):
        served = task.serving_signatures(model)
    elif task is not None:  # an object with only `serving_model`, not a `Task`
        served = from_serving_model(task.serving_model(model))
    elif normalize:
        served = _normalized_signatures(model, input_dtype=input_dtype, mean=mean, std=std)
    else:
        served = from_serving_model(model)
    if warmup is None:
        warmup = serving_protos_installed()
        if not warmup:
            warnings.warn(
                "No TF Serving warm-up requests in the SavedModel: they are built with the "
                "`tensorflow-serving-api` protos (pip install tensorflow-serving-api). "
                f"Received: path={path!r}",
                stacklevel=2,
            )
    with atomic_path(path) as folder:
        _write_archive(served, folder, warmup)
    return path


def model_versions(model_dir):
    """The integer versions (sorted) of a TF Serving model folder's `<version>/` folders.

    Example:
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name in ("1", "3", ".partial-1-2", "notes"): os.makedirs(os.path.join(root, name))
    >>> model_versions(root)
    [1, 3]
    """
    if not os.path.isdir(model_dir):
        return []
    return sorted(
        int(name)
        for name in os.listdir(model_dir)
        if re.fullmatch(r"[0-9]+", name) and os.path.isdir(os.path.join(model_dir, name))
    )


def export_model_version(model, model_dir, *, task=None, version=None, **options):
    """Writes a SavedModel as version `version` of the TF Serving model folder `model_dir`.

    TF Serving serves `model_dir/<version>/` (the highest version by default) and picks up
    a new one while it runs. The version is written to a hidden temporary folder beside it
    and renamed into place whole, so that a running server never loads half of one. An
    existing version is never overwritten.

    Args:
        model / task: as `export_savedmodel`.
        model_dir: the model's folder (created if needed); its name is the model's name in
            `hrnet-keras serving-config`.
        version: a positive int; default: one more than the highest version there (1 for
            the first).
        **options: `export_savedmodel`'s other arguments (not `overwrite`).

    Returns:
        The version's folder, `model_dir/<version>`.

    Example:
    >>> import tempfile, os, keras
    >>> model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 1)])
    >>> root = os.path.join(tempfile.mkdtemp(), "segmenter")
    >>> [os.path.basename(export_model_version(model, root)) for _ in range(2)]
    ['1', '2']
    >>> sorted(os.listdir(os.path.join(root, "1")))
    ['assets', 'assets.extra', 'fingerprint.pb', 'saved_model.pb', 'variables']
    """
    model_dir = os.path.abspath(os.fspath(model_dir))
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise FileExistsError(
            f"A TF Serving model folder is a folder; a file is in its place. "
            f"Received: model_dir={model_dir!r}"
        )
    if version is None:
        version = max(model_versions(model_dir), default=0) + 1
    elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"`version` must be a positive int. Received: version={version!r}")
    path = os.path.join(model_dir, str(version))
    if os.path.exists(path):
        raise FileExistsError(
            f"Version {version} of the model exists already; it is not overwritten (a server "
            f"may be serving it). Export another version. Received: path={path!r}"
        )
    return export_savedmodel(model, path, task=task, overwrite=False, **options)
