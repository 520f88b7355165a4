"""High-resolution networks (HRNet) for Keras 3.

Importing the package registers its layers and models with Keras serialisation, so that
`keras.saving.load_model(path)` reads any `.keras` file this library wrote.
"""

__version__ = "0.1.0"

from hrnet_keras import layers, models  # noqa: F401
