"""The Predictor and the tasks' evaluate / predict give the same results through the
BN-folded graph as through the model as built."""

import keras
import numpy as np
import pytest
from PIL import Image

from hrnet_keras.export import inference_runner as runner_module
from hrnet_keras.segmentation import Predictor, SegmentationConfig, SegmentationTask
from hrnet_keras.training import ModelConfig, Recipe


def stride4_segmenter(num_classes):
    """A small functional model from images to stride-4 logits, with batch norms to fold
    (HRNetV2's own folding and graph are tested in tests/export and the docstrings)."""
    layers = keras.layers
    images = keras.Input((None, None, 3))
    x = images
    for filters in (8, 8):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2D(8, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    model = keras.Model(images, layers.Conv2D(num_classes, 1)(x))
    rng = np.random.default_rng(0)
    # Non-trivial batch statistics, so that folding them is tested.
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            mean, variance = layer.moving_mean, layer.moving_variance
            mean.assign(rng.normal(0, 0.1, mean.shape).astype("float32"))
            variance.assign(rng.uniform(0.5, 1.5, variance.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def model():
    return stride4_segmenter(3)


def _image(height, width, seed=0):
    return np.random.default_rng(seed).normal(size=(height, width, 3)).astype("float32")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"scales": (0.75, 1.0, 1.25), "flip": True},
        {"scales": (0.5, 1.0), "flip": True, "crop_size": (48, 64), "flip_pairs": ((0, 1),)},
    ],
    ids=["single", "multi_scale_flip", "sliding_windows"],
)
def test_graph_gives_the_model_logits_at_every_image_size(model, options):
    eager = Predictor(model, graph=False, **options)
    graph = Predictor(model, graph=True, **options)
    for size in ((64, 96), (70, 50)):  # one graph for every size
        image = _image(*size)
        expected, got = eager.logits(image), graph.logits(image)
        assert got.shape == (*size, 3)
        np.testing.assert_allclose(got, expected, atol=1e-4 * np.abs(expected).max())
    assert graph.runner.uses_graph and not eager.runner.uses_graph
    assert eager.runner.eager_seconds > 0 and graph.runner.eager_seconds == 0


def test_auto_switches_to_the_graph_once_eager_calls_paid_for_it(monkeypatch):
    model = stride4_segmenter(3)  # no graph made yet
    image = _image(64, 64)
    expected = Predictor(model, graph=False).logits(image)
    monkeypatch.setattr(runner_module, "SETUP_SECONDS_PER_LAYER", 1e6)
    slow_setup = Predictor(model)
    np.testing.assert_allclose(slow_setup.logits(image), expected, atol=1e-5)
    assert not slow_setup.runner.uses_graph  # a one-image predict stays eager
    monkeypatch.setattr(runner_module, "SETUP_SECONDS_PER_LAYER", 1e-9)
    cheap_setup = Predictor(model, flip=True)
    assert not cheap_setup.runner.uses_graph
    cheap_setup.logits(image)
    assert cheap_setup.runner.uses_graph  # the first eager call paid for it
    cheap_setup.logits(image)  # makes the graph
    monkeypatch.setattr(runner_module, "SETUP_SECONDS_PER_LAYER", 1e6)
    again = Predictor(model)  # the graph made above is reused at once
    assert again.runner.uses_graph
    np.testing.assert_allclose(again.logits(image), expected, atol=1e-4 * np.abs(expected).max())


def test_predictor_rejects_an_unknown_graph_option(model):
    with pytest.raises(ValueError, match="graph="):
        Predictor(model, graph="always")


def test_task_evaluate_and_predict_match_through_the_graph(voc_dir, tmp_path, monkeypatch):
    config = SegmentationConfig(
        dataset="voc", num_classes=21, base_size=96, eval_split="train", eval_flip=True
    )
    task = SegmentationTask(Recipe(config, ModelConfig(width=4)))
    model = stride4_segmenter(21)
    results = {}
    for name, seconds in (("eager", 1e6), ("graph", 1e-9)):
        monkeypatch.setattr(runner_module, "SETUP_SECONDS_PER_LAYER", seconds)
        scores = task.evaluate(model, voc_dir, max_images=2)
        paths = task.predict(model, [voc_dir / "JPEGImages"], tmp_path / name)
        masks = [np.asarray(Image.open(p)) for p in paths[::2]]
        results[name] = scores, masks
    (eager_scores, eager_masks), (graph_scores, graph_masks) = results["eager"], results["graph"]
    assert graph_scores["num_images"] == 2
    assert graph_scores["mIoU"] == pytest.approx(eager_scores["mIoU"], abs=1e-3)
    for a, b in zip(eager_masks, graph_masks):
        assert (a == b).mean() >= 0.999


def test_hrnet_graph_reads_the_model_own_variables_without_a_folded_copy():
    from hrnet_keras.export.inference_function import cached_inference_function
    from hrnet_keras.models import hrnetv2

    model = hrnetv2(width="18-small-v1", num_classes=3)
    rng = np.random.default_rng(1)
    for weight in model.weights:  # moving statistics away from (0, 1)
        if "moving" in weight.path:
            weight.assign(rng.uniform(0.5, 1.5, weight.shape).astype("float32"))
    image = _image(40, 56)
    expected = Predictor(model, graph=False, flip=True).logits(image)
    graph = Predictor(model, graph=True, flip=True)
    np.testing.assert_allclose(graph.logits(image), expected, atol=1e-4 * np.abs(expected).max())
    # Its batch norms infer with one fused op: the graph is made without folding them (no
    # second copy of the weights).
    assert list(cached_inference_function(model)) == [((None, None, 3), None, False, False)]
    # A live graph follows the weights as they change.
    model.weights[0].assign(model.weights[0] * 0.5)
    expected = Predictor(model, graph=False, flip=True).logits(image)
    np.testing.assert_allclose(graph.logits(image), expected, atol=1e-4 * np.abs(expected).max())
