"""Loaded by pytest before anything else, for the doctests of hrnet_keras and for tests/.

torchvision (which timm imports) crashes the process when it is first imported after
TensorFlow, so the PyTorch stack, when installed, is imported before any module imports
TensorFlow.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

try:
    import timm  # noqa: F401
    import torch  # noqa: F401
    import torchvision  # noqa: F401
except ImportError:
    pass
