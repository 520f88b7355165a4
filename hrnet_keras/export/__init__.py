"""Deployment artifacts: SavedModel for TensorFlow Serving."""

from hrnet_keras.export.savedmodel import export_savedmodel

__all__ = ["export_savedmodel"]
