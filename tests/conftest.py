"""Shared fixtures and the helpers folder (the PyTorch-before-TensorFlow import order is set in
../conftest.py)."""

import pathlib
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

# Test modules are imported by path (importlib mode: basenames may repeat across the folders
# that mirror the package); the helpers they share live in one folder, importable by name.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "helpers"))


@pytest.fixture(scope="session")
def shared_data():
    """The real sample data beside the repository (`../shared/data`); skips when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at ../shared/data (looked in {SHARED_DATA})")
    return SHARED_DATA
