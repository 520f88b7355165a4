"""Calling a model for inference: eagerly at first, then through its BN-folded graph."""

import time

import keras

from hrnet_keras.export.inference_function import cached_inference_function, inference_function
from hrnet_keras.layers.batch_norm import BatchNormalization
from hrnet_keras.models.fold_batch_norm import is_graph_model

# The share of an eager call's time the graph saves (measured 1.5-6x faster for W48: 0.33-0.84).
GRAPH_SAVING = 0.5

# What every eager call costs per layer beyond the graph's call, whatever the image size:
# Python's dispatch of each layer. Measured for HRNetV2 (about 1,050 layers) at widths 4-48,
# and W18-small (250 layers), on a 2-core x86 CPU: 0.48-0.58 ms.
EAGER_SECONDS_PER_LAYER = 0.0004

# What making the graph costs per layer of the model (tracing it, and Grappler's pass and
# the kernels' set-up at the first call), measured as above: 6.2-7.0 ms.
SETUP_SECONDS_PER_LAYER = 0.007

GRAPH_OPTIONS = ("auto", True, False)


class InferenceRunner:
    """Runs `model(images, training=False)`, through `inference_function`'s graph when it pays.

    The graph (traced once for every batch and image size the model accepts, reading the
    model's own variables: `inference_function(model, fold_bn=False, constants=False,
    cache=True)`) runs HRNetV2-W48 about 1.5-3x faster than eager calls on a CPU. The
    networks' batch norms (`hrnet_keras.layers.batch_norm.BatchNormalization`) infer with
    one fused op: not folding them costs W48 about 7% of a call's time at 512x1024 and
    saves a folded copy of the weights (250 MB), which the memory of high-resolution
    inference needs more; a model with Keras' own batch norms gets a folded copy
    (`fold_bn=True`). Making the graph costs about as much as 10 eager calls on a small
    image (`SETUP_SECONDS_PER_LAYER`, `EAGER_SECONDS_PER_LAYER`). With `graph="auto"`
    the runner calls the model eagerly until the time spent so far would have paid for
    the graph, then makes it (or at once takes the graph that one runner or an earlier
    `inference_function(..., cache=True)` made for the same model and weights): one call,
    as a one-image `predict` makes, is never slower than the model as built. Models that
    are not single-input functional graphs (the subclassed detectors) always run eagerly.

    When the caller knows how many calls it will make (`calls`: an evaluation over N
    batches, or a lower bound of them), `"auto"` makes the graph at once if the calls'
    per-layer overhead alone would pay for it; otherwise it decides after each eager call:
    the graph is made when the calls left would save more than it costs (the larger of
    `GRAPH_SAVING` of their measured eager time and their overhead).

    Args:
        model: a Keras model.
        graph: `"auto"`, `True` (the graph from the first call) or `False` (always eager).
        calls: the number of calls to come, if known.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(4, 3),
    ...                           keras.layers.BatchNormalization()])
    >>> runner = InferenceRunner(model, graph=True)
    >>> x = np.random.default_rng(0).random((1, 64, 96, 3), dtype="float32")
    >>> a, b = np.asarray(model(x)), np.asarray(runner(x))
    >>> runner.uses_graph, bool(np.abs(a - b).max() <= 1e-5 * np.abs(a).max())
    (True, True)
    """

    def __init__(self, model, graph="auto", calls=None):
        if not (graph is True or graph is False or graph == "auto"):
            raise ValueError(f"`graph` must be one of {GRAPH_OPTIONS}. Received: graph={graph!r}")
        self.model = model
        self.graph = graph if is_graph_model(model) and len(model.inputs) == 1 else False
        self.calls = calls
        self.eager_seconds = 0.0
        self.eager_calls = 0
        self._function = None
        # Batch norms that only folding turns into one op (Keras' own) get a folded graph.
        self._fold = any(
            isinstance(layer, keras.layers.BatchNormalization)
            and not isinstance(layer, BatchNormalization)
            for layer in model._flatten_layers(include_self=False)
        )
        if self.graph is not False:
            self._function = cached_inference_function(model).get(self._key())

    def _key(self):
        return (tuple(self.model.input_shape[1:]), None, self._fold, False)

    @property
    def uses_graph(self):
        """Whether the next call runs the graph."""
        if self._function is not None or self.graph is True:
            return True
        if self.graph is False:
            return False
        if self.calls is None:
            return self.eager_seconds >= self.setup_seconds
        saving = EAGER_SECONDS_PER_LAYER * len(self.model.layers)
        if self.eager_calls:
            saving = max(saving, GRAPH_SAVING * self.eager_seconds / self.eager_calls)
        return max(self.calls - self.eager_calls, 0) * saving >= self.setup_seconds

    @property
    def setup_seconds(self):
        """The estimated cost of making the graph."""
        return SETUP_SECONDS_PER_LAYER * len(self.model.layers)

    def __call__(self, images):
        if self._function is None and self.graph is not False and self.uses_graph:
            self._function = inference_function(
                self.model, fold_bn=self._fold, constants=False, cache=True
            )
        if self._function is not None:
            return self._function(images)
        start = time.perf_counter()
        outputs = self.model(images, training=False)
        self.eager_seconds += time.perf_counter() - start
        self.eager_calls += 1
        return outputs


def inference_runner(model, graph="auto", calls=None):
    """`model` itself when it is an `InferenceRunner`, else `InferenceRunner(model, graph,
    calls)`.

    Example:
    >>> import keras
    >>> runner = inference_runner(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    >>> inference_runner(runner) is runner
    True
    """
    if isinstance(model, InferenceRunner):
        return model
    return InferenceRunner(model, graph, calls)
