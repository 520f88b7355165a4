"""Small helpers the tasks, export and conversion share (no TensorFlow imports)."""

from hrnet_keras.utils.atomic import atomic_path

__all__ = ["atomic_path"]
