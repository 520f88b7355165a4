"""TF Serving's `models.config` for a folder of model folders, and the command to serve it.

A model folder is one that holds integer version folders with a `saved_model.pb`
(`export_model_version` writes them); its name is the model's name on the server
(`/v1/models/NAME:predict`). The config is TF Serving's `ModelServerConfig` text format, built
with the `tensorflow-serving-api` protos. Its `base_path`s are where the server sees the
folders: under `/models` by default, where `docker_command` mounts the folder.
"""

import os
import re
import shlex

CONFIG_FILE = "models.config"
MOUNT = "/models"


def model_folders(root):
    """`{name: folder}` of the model folders under `root` (any depth), sorted by name.

    Example:
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for version in ("faces/1", "roads/2"):
    ...     os.makedirs(os.path.join(root, version))
    ...     open(os.path.join(root, version, "saved_model.pb"), "wb").close()
    >>> sorted(model_folders(root))
    ['faces', 'roads']
    """
    root = os.path.abspath(os.fspath(root))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"No folder of models there. Received: root={root!r}")
    found = {}
    for folder, subfolders, _ in os.walk(root):
        subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))
        versions = [
            s
            for s in subfolders
            if re.fullmatch(r"[0-9]+", s)
            and os.path.isfile(os.path.join(folder, s, "saved_model.pb"))
        ]
        if not versions:
            continue
        name = os.path.basename(folder)
        if name in found:
            raise ValueError(
                "Two model folders have the same name, which the server needs unique. "
                f"Received: {found[name]!r} and {folder!r}"
            )
        found[name] = folder
        subfolders[:] = []  # a model's versions hold no models
    return dict(sorted(found.items()))


def serving_config(root, *, base_path=MOUNT):
    """The `models.config` text of every model folder under `root`.

    Args:
        root: the folder of model folders.
        base_path: where the server sees `root` (the docker mount); None: `root` itself
            (a server on this machine).

    Example:
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "faces", "1"))
    >>> open(os.path.join(root, "faces", "1", "saved_model.pb"), "wb").close()
    >>> print(serving_config(root))
    model_config_list {
      config {
        name: "faces"
        base_path: "/models/faces"
        model_platform: "tensorflow"
      }
    }
    <BLANKLINE>
    """
    from google.protobuf import text_format

    try:
        from tensorflow_serving.config import model_server_config_pb2
    except ImportError as error:
        raise ImportError(
            "models.config is built with the TF Serving protos: pip install "
            f"tensorflow-serving-api (or hrnet_keras[serving]). Received: {error}"
        ) from None
    root = os.path.abspath(os.fspath(root))
    folders = model_folders(root)
    if not folders:
        raise FileNotFoundError(
            "No model folder (NAME/<version>/saved_model.pb) under the folder; export one "
            f"with `hrnet-keras export ... --format savedmodel --out {root}/NAME`. "
            f"Received: root={root!r}"
        )
    config = model_server_config_pb2.ModelServerConfig()
    for name, folder in folders.items():
        relative = os.path.relpath(folder, root)
        if base_path is None:
            path = folder
        else:
            path = "/".join([base_path.rstrip("/"), *relative.split(os.sep)])
        config.model_config_list.config.add(name=name, base_path=path, model_platform="tensorflow")
    return text_format.MessageToString(config)


def write_serving_config(root, *, base_path=MOUNT):
    """Writes `root/models.config` (`serving_config`) atomically; returns its path."""
    from hrnet_keras.utils.atomic import atomic_path

    text = serving_config(root, base_path=base_path)
    path = os.path.join(os.path.abspath(os.fspath(root)), CONFIG_FILE)
    with atomic_path(path) as partial, open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def docker_command(root):
    """The command that serves every model of `root` (with its `models.config`) with the
    official TF Serving image: REST on port 8501, gRPC on 8500.

    Example:
    >>> print(docker_command("/srv/models"))  # doctest: +NORMALIZE_WHITESPACE
    docker run --rm -p 8500:8500 -p 8501:8501 -v /srv/models:/models tensorflow/serving
        --model_config_file=/models/models.config
    """
    root = os.path.abspath(os.fspath(root))
    return (
        f"docker run --rm -p 8500:8500 -p 8501:8501 -v {shlex.quote(root)}:{MOUNT} "
        f"tensorflow/serving --model_config_file={MOUNT}/{CONFIG_FILE}"
    )
