"""Deployment artifacts: SavedModel for TensorFlow Serving, TFLite for LiteRT on devices."""

from hrnet_keras.export.inference_function import inference_function
from hrnet_keras.export.savedmodel import export_model_version, export_savedmodel
from hrnet_keras.export.tflite import QUANTIZATIONS, convert_to_tflite, export_tflite

__all__ = [
    "QUANTIZATIONS",
    "convert_to_tflite",
    "export_model_version",
    "export_savedmodel",
    "export_tflite",
    "inference_function",
]
