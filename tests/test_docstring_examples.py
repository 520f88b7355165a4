"""Runs the `Example:` sections of every docstring in hrnet_keras, one test per module."""

import doctest
import importlib
import pkgutil

import pytest

import hrnet_keras

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(hrnet_keras.__path__, prefix="hrnet_keras.")
    if info.name != "hrnet_keras.__main__"  # runs the command when imported
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module_name):  # with the module's own globals
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} docstring example(s) failed in {module_name}"
