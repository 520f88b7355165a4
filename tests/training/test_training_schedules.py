"""Learning-rate schedules against their formulas, and their serialisation."""

import keras
import numpy as np
import pytest

from hrnet_keras.training import OptimizerConfig
from hrnet_keras.training.schedules import (
    ConstantSchedule,
    PolyDecay,
    StepDecay,
    build_schedule,
)


def _values(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


def test_poly_follows_the_formula_per_iteration():
    steps = np.arange(0, 1201, 37)
    expected = 0.01 * (1 - np.minimum(steps, 1000) / 1000) ** 0.9
    np.testing.assert_allclose(_values(PolyDecay(0.01, 1000), steps), expected, atol=1e-8)


def test_poly_warms_up_linearly_from_zero_then_decays():
    schedule = PolyDecay(0.1, decay_steps=100, warmup_steps=10)
    steps = np.arange(0, 100)
    expected = 0.1 * np.minimum(1, steps / 10) * (1 - steps / 100) ** 0.9
    np.testing.assert_allclose(_values(schedule, steps), expected, rtol=1e-5, atol=1e-8)
    assert float(schedule(0)) == 0.0


def test_step_decay_multiplies_at_each_boundary():
    schedule = StepDecay(1.0, boundaries=[3, 6], decay_rate=0.5)
    np.testing.assert_allclose(_values(schedule, range(8)), [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])


def test_warm_up_from_a_start_factor_is_mmdetections_linear_warm_up():
    """mmcv: `lr * (1 - (1 - step / warmup_iters) * (1 - warmup_ratio))` while warming up."""
    config = OptimizerConfig(
        schedule="step",
        learning_rate=0.02,
        boundaries=(8, 11),
        warmup_steps=500,
        warmup_start=1 / 3,
    )
    schedule = build_schedule(config, total_steps=1200, steps_per_epoch=100)
    steps = np.array([0, 1, 250, 499, 500, 799, 800, 1100])
    warm = np.minimum(steps, 500) / 500
    expected = 0.02 * (1 - (1 - warm) * (1 - 1 / 3)) * np.where(steps >= 800, 0.1, 1.0)
    expected[steps >= 1100] *= 0.1
    np.testing.assert_allclose(_values(schedule, steps), expected, rtol=1e-5)
    assert float(schedule(0)) == pytest.approx(0.02 / 3)
    for Schedule, arguments in ((PolyDecay, (1.0, 10)), (ConstantSchedule, (1.0,))):
        assert float(Schedule(*arguments, warmup_steps=4, warmup_start=0.5)(0)) == 0.5


def test_build_schedule_converts_epoch_boundaries_to_steps():
    config = OptimizerConfig(schedule="step", learning_rate=1e-4, boundaries=(30, 50))
    schedule = build_schedule(config, total_steps=600, steps_per_epoch=10)
    assert schedule.boundaries == [300, 500]


@pytest.mark.parametrize(
    "schedule",
    [
        PolyDecay(0.01, 50, warmup_steps=5),
        StepDecay(0.1, [2, 4]),
        ConstantSchedule(0.3, 2),
        StepDecay(0.02, [4], warmup_steps=3, warmup_start=1 / 3),
    ],
)
def test_schedules_round_trip_through_keras_serialisation(schedule):
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert type(restored) is type(schedule) and restored.get_config() == schedule.get_config()
    np.testing.assert_allclose(_values(restored, range(8)), _values(schedule, range(8)))


def test_cosine_warms_up_from_warmup_start_then_decays_to_zero():
    config = OptimizerConfig(
        schedule="cosine", learning_rate=0.3, warmup_steps=4, warmup_start=1 / 3
    )
    schedule = build_schedule(config, total_steps=14, steps_per_epoch=1)
    np.testing.assert_allclose(
        _values(schedule, (0, 2, 4, 9, 14)), [0.1, 0.2, 0.3, 0.15, 0.0], atol=1e-6
    )


def test_bad_schedule_settings_name_the_field():
    with pytest.raises(ValueError, match=r"optimizer\.schedule.*Received: schedule='linear'"):
        build_schedule(OptimizerConfig(schedule="linear"), total_steps=10, steps_per_epoch=1)
    with pytest.raises(ValueError, match="Received: decay_steps=0"):
        PolyDecay(0.1, decay_steps=0)
    with pytest.raises(ValueError, match="must increase"):
        StepDecay(0.1, boundaries=[5, 3])
    with pytest.raises(ValueError, match=r"Received: warmup_start=1\.5"):
        ConstantSchedule(0.1, warmup_steps=2, warmup_start=1.5)
