"""Shared fixtures (the PyTorch-before-TensorFlow import order is set in ../conftest.py)."""

import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The real sample data beside the repository (`../shared/data`); skips when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at ../shared/data (looked in {SHARED_DATA})")
    return SHARED_DATA
