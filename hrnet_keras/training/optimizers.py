"""Optimizers of the recipes (SGD with momentum, Adam, AdamW) and their two weight decays.

The two `OptimizerConfig.weight_decay_mode`s differ as follows:

- `"l2"` (coupled, the paper's setting): `weight_decay / 2 * |w|^2` of every convolution and
  dense kernel is added to the loss, so its gradient `weight_decay * w` joins the loss
  gradient before the optimizer sees it. For SGD this is exactly PyTorch's
  `SGD(weight_decay=...)`: the decay goes through the momentum buffer and is scaled by the
  learning rate. With Adam it is divided by Adam's running gradient scale, like PyTorch's
  `Adam(weight_decay=...)`. The reported loss includes the penalty.
- `"decoupled"` (AdamW-style): after each update, the optimizer shrinks every kernel by
  `learning_rate * weight_decay * w` (Keras' `weight_decay`, PyTorch's `AdamW`); nothing is
  added to the loss and the momentum / Adam statistics never see the decay.

Biases and batch-norm parameters are never decayed in either mode.

`OptimizerConfig.global_clipnorm` clips the global L2 norm of the gradient that the update
uses: with several replicas, that of the replicas' summed gradient, as PyTorch's
`clip_grad_norm_` after DistributedDataParallel's all-reduce. (Keras' own `global_clipnorm`
clips each replica's part before the sum, a looser bound.)
"""

import keras
import tensorflow as tf

from hrnet_keras.training.schedules import build_schedule

OPTIMIZERS = ("sgd", "adam", "adamw")
WEIGHT_DECAY_MODES = ("l2", "decoupled")


def _is_kernel(variable):
    return variable.path.endswith("kernel")


def apply_l2_regularization(model, weight_decay):
    """Adds `weight_decay / 2 * |w|^2` of each conv / dense kernel of `model` to its losses.

    Returns the model, whose `losses` then hold one penalty per kernel.

    Example:
    >>> import keras
    >>> from hrnet_keras.training.optimizers import apply_l2_regularization
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    >>> _ = model.layers[0].kernel.assign([[2.0]])
    >>> [round(float(loss), 6) for loss in apply_l2_regularization(model, 0.1).losses]
    [0.2]
    """
    if weight_decay:
        regularizer = keras.regularizers.L2(weight_decay / 2.0)
        for variable in model.trainable_weights:
            if _is_kernel(variable):
                variable.regularizer = regularizer
    return model


class ReplicaGlobalClip:
    """Mixin: `global_clipnorm` bounds the norm of the gradient summed over the replicas.

    Keras calls `_clip_gradients` in each replica's context before it sums the replicas'
    gradients. With more than one replica, this sums them first (an all-reduce), clips the
    sum and hands each replica an equal share, which Keras' own sum then adds up to the
    clipped sum. With one replica it is Keras' clipping.
    """

    def _clip_gradients(self, grads):
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        if not self.global_clipnorm or replicas == 1:
            return super()._clip_gradients(grads)
        present = [g for g in grads if g is not None]
        summed = context.all_reduce(tf.distribute.ReduceOp.SUM, present)
        clipped = iter(tf.clip_by_global_norm(summed, self.global_clipnorm)[0])
        return [None if g is None else next(clipped) / replicas for g in grads]


@keras.saving.register_keras_serializable(package="hrnet_keras")
class ClippedSGD(ReplicaGlobalClip, keras.optimizers.SGD):
    """SGD whose `global_clipnorm` clips the replicas' summed gradient."""


@keras.saving.register_keras_serializable(package="hrnet_keras")
class ClippedAdam(ReplicaGlobalClip, keras.optimizers.Adam):
    """Adam whose `global_clipnorm` clips the replicas' summed gradient."""


@keras.saving.register_keras_serializable(package="hrnet_keras")
class ClippedAdamW(ReplicaGlobalClip, keras.optimizers.AdamW):
    """AdamW whose `global_clipnorm` clips the replicas' summed gradient."""


def build_optimizer(config, *, total_steps, steps_per_epoch, model=None):
    """The optimizer of an `OptimizerConfig`, with its learning-rate schedule.

    With `weight_decay_mode="l2"`, pass `model` (built in the strategy's scope) so that its
    kernels get the L2 penalty; with `"decoupled"`, `model` excludes biases and batch-norm
    parameters from the decay.

    Args:
        config: an `OptimizerConfig`.
        total_steps: optimizer steps of the whole run (the poly schedule's length).
        steps_per_epoch: converts epoch boundaries of the step schedule to steps.
        model: the model to train.

    Returns:
        A `keras.optimizers.Optimizer`.

    Example:
    >>> from hrnet_keras.training import OptimizerConfig
    >>> from hrnet_keras.training.optimizers import build_optimizer
    >>> opt = build_optimizer(OptimizerConfig(), total_steps=100, steps_per_epoch=10)
    >>> type(opt).__name__, opt.momentum, opt.weight_decay
    ('SGD', 0.9, None)
    """
    if config.name not in OPTIMIZERS:
        raise ValueError(
            f"`optimizer.name` must be one of {OPTIMIZERS}. Received: name={config.name!r}"
        )
    if config.weight_decay_mode not in WEIGHT_DECAY_MODES:
        raise ValueError(
            f"`optimizer.weight_decay_mode` must be one of {WEIGHT_DECAY_MODES}. "
            f"Received: weight_decay_mode={config.weight_decay_mode!r}"
        )
    if config.weight_decay < 0:
        raise ValueError(
            f"`optimizer.weight_decay` must be >= 0. Received: weight_decay={config.weight_decay}"
        )
    clip = config.global_clipnorm
    if clip is not None and (
        isinstance(clip, bool) or not isinstance(clip, (int, float)) or clip <= 0
    ):
        raise ValueError(
            f"`optimizer.global_clipnorm` must be a positive number or None. "
            f"Received: global_clipnorm={clip!r}"
        )
    if config.name == "adamw" and config.weight_decay and config.weight_decay_mode == "l2":
        raise ValueError(
            "AdamW decays decoupled; set `optimizer.weight_decay_mode=decoupled` or use "
            "`optimizer.name=adam`. Received: name='adamw', weight_decay_mode='l2'"
        )
    decoupled = config.weight_decay_mode == "decoupled" and config.weight_decay > 0
    if config.weight_decay_mode == "l2" and config.weight_decay and model is not None:
        apply_l2_regularization(model, config.weight_decay)
    schedule = build_schedule(config, total_steps=total_steps, steps_per_epoch=steps_per_epoch)
    weight_decay = config.weight_decay if decoupled else None
    clipping = {} if clip is None else {"global_clipnorm": float(clip)}
    if config.name == "sgd":
        optimizer = (keras.optimizers.SGD if clip is None else ClippedSGD)(
            schedule,
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=weight_decay,
            **clipping,
        )
    elif config.name == "adam":
        optimizer = (keras.optimizers.Adam if clip is None else ClippedAdam)(
            schedule, weight_decay=weight_decay, **clipping
        )
    else:
        optimizer = (keras.optimizers.AdamW if clip is None else ClippedAdamW)(
            schedule, weight_decay=weight_decay or 0.0, **clipping
        )
    if decoupled and model is not None:
        optimizer.exclude_from_weight_decay(
            var_list=[v for v in model.trainable_weights if not _is_kernel(v)]
        )
    return optimizer
