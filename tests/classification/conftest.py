"""Class folder trees made once per session from the real samples of ../shared/data."""

import pytest
from classification_trees import digit_cells, write_crop_tree


@pytest.fixture(scope="session")
def crop_tree(shared_data, tmp_path_factory):
    """One tree of the sample boxes: `person/` (19 crops), `bus/` (2) and four classes of
    one crop each (bottle, car, chair, sofa)."""
    root = tmp_path_factory.mktemp("crops")
    counts = write_crop_tree(shared_data, root)
    assert counts["person"] >= 15 and counts["bus"] == 2, counts
    return root


@pytest.fixture(scope="session")
def digits(shared_data):
    """`(10, 500, 20, 20)` uint8 cells of the handwritten digit sheet."""
    return digit_cells(shared_data)
