"""Image files on disk: the suffixes readers accept, listing a folder, checking a path."""

import os

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def list_images(folder, suffixes=IMAGE_SUFFIXES):
    """Sorted image files in `folder` (not recursive).

    Example:
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("b.PNG", "a.jpg", "notes.txt"):
    ...     open(os.path.join(folder, name), "w").close()
    >>> [os.path.basename(p) for p in list_images(folder)]
    ['a.jpg', 'b.PNG']
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"The image folder {folder!r} does not exist. Received: folder={folder!r}"
        )
    return sorted(
        os.path.join(folder, name) for name in os.listdir(folder) if name.lower().endswith(suffixes)
    )


def image_beside(stem, suffixes=IMAGE_SUFFIXES):
    """The first existing `stem + suffix` (in the order of `suffixes`), or None."""
    return next((stem + s for s in suffixes if os.path.isfile(stem + s)), None)


def require_file(path, what="file"):
    """`path`, or a `FileNotFoundError` naming it unless it is a file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The {what} {path!r} does not exist. Received: path={path!r}")
    return path


def image_files(inputs):
    """The image files that `inputs` names: files as they are, folders by `list_images`.

    Args:
        inputs: a path, or a list of paths of image files or folders.

    Returns:
        A list of paths (not empty).

    Example:
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> open(os.path.join(folder, "a.jpg"), "w").close()
    >>> [os.path.basename(p) for p in image_files([folder, os.path.join(folder, "a.jpg")])]
    ['a.jpg', 'a.jpg']
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = []
    for item in inputs:
        item = os.fspath(item)
        if os.path.isdir(item):
            paths += list_images(item)
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise FileNotFoundError(f"No image file or folder at {item!r}. Received: {item!r}")
    if not paths:
        raise ValueError(f"No images to predict on. Received: inputs={list(inputs)!r}")
    return paths
