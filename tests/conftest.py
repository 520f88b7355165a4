"""Shared fixtures and test set-up.

torchvision (which timm imports) crashes the process when it is first imported after
TensorFlow, so the PyTorch stack, when installed, is imported here, before any test module
imports TensorFlow.
"""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

try:
    import timm  # noqa: F401
    import torch  # noqa: F401
    import torchvision  # noqa: F401
except ImportError:
    pass

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The real sample data beside the repository (`../shared/data`); skips when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at ../shared/data (looked in {SHARED_DATA})")
    return SHARED_DATA
