"""`atomic_path`: write a file or a folder so that readers see the old one or the whole new one."""

import contextlib
import os
import secrets
import shutil


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def _fsync(path):
    # Flushed before the rename: a crash right after it must not leave an empty file in place.
    with open(path, "rb") as f:
        os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_path(path):
    """A temporary path beside `path` that becomes `path` in one rename when the block ends.

    The block writes a file or creates a folder at the yielded path (which ends with the
    name of `path`, so `.keras` / `.weights.h5` suffixes still read right). On success it
    replaces `path`; on any error (or when nothing was written) `path` keeps its previous
    content, or stays absent, and the temporary file or folder is removed. A folder replaces
    a folder through two renames: the old one is moved aside first and put back if the
    second rename fails.

    Args:
        path: the file or folder to write.

    Returns:
        A context manager yielding the temporary path (a `str`).

    Example:
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "scores.json")
    >>> with atomic_path(target) as partial, open(partial, "w") as f:
    ...     _ = f.write("{}")
    >>> open(target).read(), sorted(os.listdir(os.path.dirname(target)))
    ('{}', ['scores.json'])
    """
    path = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    partial = os.path.join(parent, f".partial-{token}-{name}")
    previous = os.path.join(parent, f".previous-{token}-{name}")
    try:
        yield partial
        if not os.path.lexists(partial):
            raise FileNotFoundError(
                f"Nothing was written to the temporary path of {path!r}. Received: path={path!r}"
            )
        if not os.path.isdir(partial):
            _fsync(partial)
            os.replace(partial, path)
            return
        if os.path.lexists(path):
            # A folder cannot be renamed over a non-empty one: move the old one aside first.
            os.replace(path, previous)
        try:
            os.replace(partial, path)
        except OSError:
            if os.path.lexists(previous):
                os.replace(previous, path)
            raise
    finally:
        _remove(partial)
        _remove(previous)
