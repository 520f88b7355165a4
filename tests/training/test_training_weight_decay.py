"""The two weight decays: L2 in the loss (PyTorch SGD's) and decoupled (AdamW's)."""

import keras
import numpy as np
import pytest

from hrnet_keras.training import OptimizerConfig
from hrnet_keras.training.optimizers import build_optimizer


def _one_step(name, mode, *, weight_decay=0.01, learning_rate=0.1, momentum=0.0):
    """Starts from kernel 2 and bias 2 with a zero data gradient; returns both after 2 steps."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.layers[0].kernel.assign([[2.0]])
    model.layers[0].bias.assign([2.0])
    config = OptimizerConfig(
        name=name,
        learning_rate=learning_rate,
        momentum=momentum,
        weight_decay=weight_decay,
        weight_decay_mode=mode,
        schedule="constant",
    )
    optimizer = build_optimizer(config, total_steps=10, steps_per_epoch=10, model=model)
    # Zero inputs and targets equal to the output: the data term has no kernel gradient.
    model.compile(optimizer=optimizer, loss=lambda y, p: 0.0 * keras.ops.sum(p))
    x = np.zeros((4, 1), "float32")
    logs = [model.train_on_batch(x, x, return_dict=True)["loss"] for _ in range(2)]
    return float(model.layers[0].kernel.numpy()[0, 0]), float(model.layers[0].bias[0]), logs


def test_l2_adds_half_the_squared_kernel_norm_to_the_loss():
    _, _, losses = _one_step("sgd", "l2", weight_decay=0.1)
    assert losses[0] == pytest.approx(0.1 / 2 * 2.0**2, rel=1e-5)


def test_sgd_l2_is_pytorch_coupled_decay_through_momentum():
    kernel, bias, _ = _one_step("sgd", "l2", momentum=0.9)
    # PyTorch SGD(weight_decay=0.01, momentum=0.9): g = wd * w; buf = 0.9 * buf + g; w -= lr * buf
    w, buf = 2.0, 0.0
    for _ in range(2):
        buf = 0.9 * buf + 0.01 * w
        w -= 0.1 * buf
    assert kernel == pytest.approx(w, rel=1e-6)
    assert bias == 2.0  # biases are never decayed


def test_decoupled_decay_bypasses_momentum_and_the_loss():
    kernel, bias, losses = _one_step("sgd", "decoupled", momentum=0.9)
    assert kernel == pytest.approx(2.0 * (1 - 0.1 * 0.01) ** 2, rel=1e-6)
    assert bias == 2.0 and losses == [0.0, 0.0]


def test_adam_normalises_l2_decay_but_not_decoupled_decay():
    # Adam divides the L2 gradient by its own scale: a step of about lr, whatever wd is.
    l2_kernel, _, _ = _one_step("adam", "l2")
    decoupled_kernel, _, _ = _one_step("adamw", "decoupled")
    assert l2_kernel == pytest.approx(2.0 - 2 * 0.1, abs=1e-3)
    assert decoupled_kernel == pytest.approx(2.0 * (1 - 0.1 * 0.01) ** 2, rel=1e-6)


def test_contradictory_or_unknown_settings_name_the_field():
    with pytest.raises(ValueError, match="AdamW decays decoupled"):
        build_optimizer(
            OptimizerConfig(name="adamw"), total_steps=10, steps_per_epoch=1, model=None
        )
    with pytest.raises(ValueError, match="Received: name='lamb'"):
        build_optimizer(OptimizerConfig(name="lamb"), total_steps=10, steps_per_epoch=1)
    with pytest.raises(ValueError, match="Received: weight_decay_mode='l1'"):
        build_optimizer(OptimizerConfig(weight_decay_mode="l1"), total_steps=10, steps_per_epoch=1)
