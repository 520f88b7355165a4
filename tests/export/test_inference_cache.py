"""`inference_function(cache=True)` makes one graph per model, arguments and weights;
`InferenceRunner` leaves subclassed models eager."""

import gc
import weakref

import keras
import numpy as np
import pytest

from hrnet_keras.export import inference_function
from hrnet_keras.export.inference_function import cached_inference_function
from hrnet_keras.export.inference_runner import InferenceRunner


@pytest.fixture(scope="module")
def model():
    layers = keras.layers
    images = keras.Input((None, None, 3))
    x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(4, 3, padding="same")(images)))
    return keras.Model(images, layers.Conv2D(3, 1)(x))


def test_cache_returns_the_same_function_until_the_weights_change(model):
    x = np.random.default_rng(0).random((1, 64, 64, 3), dtype="float32")
    first = inference_function(model, constants=False, cache=True)
    assert inference_function(model, constants=False, cache=True) is first
    assert inference_function(model, constants=False) is not first  # not cached
    assert cached_inference_function(model)[((None, None, 3), None, True, False)] is first
    before = np.asarray(first(x))
    head = model.layers[-1]
    original = head.bias.numpy()
    head.bias.assign(original + 1.0)
    try:
        assert cached_inference_function(model) == {}
        second = inference_function(model, constants=False, cache=True)
        assert second is not first
        np.testing.assert_allclose(np.asarray(second(x)), before + 1.0, atol=1e-4)
        np.testing.assert_allclose(np.asarray(model(x)), before + 1.0, atol=1e-4)
    finally:
        head.bias.assign(original)


def test_cached_functions_do_not_keep_their_model_alive():
    small = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    inference_function(small, cache=True)
    unfolded = inference_function(small, fold_bn=False, constants=False, cache=True)
    x = np.ones((1, 4), "float32")
    np.testing.assert_allclose(np.asarray(unfolded(x)), np.asarray(small(x)), atol=1e-6)
    ref = weakref.ref(small)
    del small, unfolded
    gc.collect()
    assert ref() is None


def test_runner_leaves_subclassed_models_eager():
    class Doubler(keras.Model):
        def call(self, x):
            return x * 2.0

    runner = InferenceRunner(Doubler(), graph=True)
    assert runner.graph is False and not runner.uses_graph
    np.testing.assert_allclose(np.asarray(runner(np.ones((1, 2), "float32"))), [[2.0, 2.0]])


@pytest.mark.parametrize("kwargs", [{"cache": 1}, {"constants": "yes"}])
def test_flags_must_be_bools(model, kwargs):
    with pytest.raises(ValueError, match="Received"):
        inference_function(model, **kwargs)


def test_runner_with_a_known_number_of_calls_decides_at_once_or_after_each_call(monkeypatch):
    from hrnet_keras.export import inference_runner as runner_module

    layers = keras.layers
    images = keras.Input((None, None, 3))
    fresh = keras.Model(images, layers.BatchNormalization()(layers.Conv2D(2, 3)(images)))
    x = np.ones((1, 8, 8, 3), "float32")
    # Three layers: making the graph costs 3 s, each eager call's overhead 0.3 s.
    monkeypatch.setattr(runner_module, "SETUP_SECONDS_PER_LAYER", 1.0)
    monkeypatch.setattr(runner_module, "EAGER_SECONDS_PER_LAYER", 0.1)
    assert len(fresh.layers) == 3
    assert InferenceRunner(fresh, calls=10).uses_graph  # the overhead alone pays: at once
    few = InferenceRunner(fresh, calls=9)
    assert not few.uses_graph
    few(x)
    assert few.eager_calls == 1 and not few.uses_graph  # 8 calls left: 2.4 s < 3 s
    monkeypatch.setattr(runner_module, "GRAPH_SAVING", 1e9)  # as if eager calls were slow
    assert few.uses_graph  # the measured eager time decides after a call
    few.eager_calls = 9
    assert not few.uses_graph  # no call left to pay for it
    monkeypatch.setattr(runner_module, "GRAPH_SAVING", 0.5)
    monkeypatch.setattr(runner_module, "SETUP_SECONDS_PER_LAYER", 1e6)
    costly = InferenceRunner(fresh, calls=1000)
    costly(x)
    assert not costly.uses_graph
