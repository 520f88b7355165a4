"""Activation recomputation: parts of a network whose activations are recomputed in backprop.

Training keeps every activation that the backward pass needs until the gradient reaches it;
HRNet keeps a stride-4 branch through the whole network, so those activations are most of a
training step's memory. A `RecomputedBlock` keeps only its inputs and runs its forward pass
again, one block at a time, while the gradient flows back through it (`keras.remat` over a
closure, which works under `fit`, also with `jit_compile`, on the TensorFlow backend).

`RECOMPUTE_MODES` are the choices of `HRNetBackbone(recompute=...)`, of every HRNet builder's
`recompute=` keyword and of `RuntimeConfig.recompute`:

- `"none"`: keep every activation (the fastest step).
- `"stages"`: the stem with stage 1, and each of stages 2-4, are one block each.
- `"modules"`: the stem, every stage-1 unit and every multi-resolution module (its residual
  units and its fusion) are one block each: the least memory, about one more forward pass
  of time.

Either mode also makes `hrnetv2`'s representation and head one block.
"""

import contextlib

import keras

RECOMPUTE_MODES = ("none", "stages", "modules")


def check_recompute(recompute, arg="recompute"):
    """Checks a recomputation mode (one of `RECOMPUTE_MODES`) and returns it."""
    if recompute not in RECOMPUTE_MODES:
        raise ValueError(f"`{arg}` must be one of {RECOMPUTE_MODES}. Received: {arg}={recompute!r}")
    return recompute


@contextlib.contextmanager
def _moving_statistics_kept(layers):
    """Batch norms that still normalise with the batch statistics but leave their moving
    statistics as they are (momentum 1: `moving * 1 + batch * 0`), for the second run of a
    block's forward pass, which must not update them twice."""
    norms = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 1.0
    try:
        yield
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum


@keras.saving.register_keras_serializable(package="hrnet_keras")
class RecomputedBlock(keras.Model):
    """A functional sub-network that, in training, keeps only its inputs for the backward pass.

    Built as any functional model, from a list of inputs to a list of outputs. Called with
    `training=True` it runs under `keras.remat`: its inner activations are freed after the
    forward pass and recomputed when the gradient reaches the block. Its batch norms update
    their moving statistics once per step, as without recomputation. Outside training it is
    the plain functional model. The layers inside keep their names and variable paths.

    Example:
    >>> import keras
    >>> from hrnet_keras.models.recompute import RecomputedBlock
    >>> x = keras.Input((8, 8, 4))
    >>> block = RecomputedBlock([x], [keras.layers.Conv2D(4, 3, padding="same")(x)])
    >>> y = block([keras.ops.ones((1, 8, 8, 4))], training=True)
    >>> tuple(y[0].shape)
    (1, 8, 8, 4)
    """

    def call(self, inputs, training=None, mask=None, **kwargs):
        if not training:
            return super().call(inputs, training=training, mask=mask, **kwargs)
        run = super().call
        runs = []

        def forward(*tensors):
            # The first run is the forward pass; any later one is the recomputation.
            recomputing = bool(runs)
            runs.append(recomputing)
            kept = _moving_statistics_kept(self.layers) if recomputing else contextlib.nullcontext()
            with kept:
                return run(list(tensors), training=True, mask=mask, **kwargs)

        outputs = keras.remat(forward)(*inputs)
        # A single output comes back bare from the TensorFlow backend's remat.
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def recomputed(build, inputs, *, name, enabled=True):
    """`build(inputs)` (a function of a list of tensors returning a list), as one
    `RecomputedBlock` named `name` when `enabled`, else as plain layers."""
    inputs = list(inputs)
    if not enabled:
        return build(inputs)
    placeholders = [
        keras.Input(tuple(x.shape)[1:], dtype=x.dtype, name=f"{name}_input{k}")
        for k, x in enumerate(inputs)
    ]
    block = RecomputedBlock(placeholders, list(build(placeholders)), name=name)
    return block(inputs)
