"""Learning-rate schedules of the recipes: poly, step, cosine and constant, with a linear
warm-up."""

import itertools

import keras
from keras import ops


def _warmup_factor(step, warmup_steps, warmup_start=0.0):
    """From `warmup_start` linearly to 1 over the warm-up, then 1.

    `warmup_start + (1 - warmup_start) * step / warmup_steps`: mmdetection's linear warm-up
    with `warmup_ratio=warmup_start` (0 is a warm-up from 0).
    """
    if not warmup_steps:
        return 1.0
    progress = ops.minimum(1.0, step / float(warmup_steps))
    return warmup_start + (1.0 - warmup_start) * progress


def _check_warmup_start(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"`warmup_start` must be a number in [0, 1]. Received: warmup_start={value!r}"
        )


def _check_steps(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}. Received: {name}={value!r}")


@keras.saving.register_keras_serializable(package="hrnet_keras")
class PolyDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Poly decay per iteration, the segmentation papers' schedule.

    `lr(step) = end + (initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power`,
    multiplied during the first `warmup_steps` steps by a factor rising linearly from
    `warmup_start` to 1 (a linear warm-up, from 0 by default).

    Args:
        initial_learning_rate: rate at step 0 (after the warm-up).
        decay_steps: steps until the rate reaches `end_learning_rate` (all of training).
        power: 0.9 in the paper.
        end_learning_rate: final rate.
        warmup_steps: length of the linear warm-up; 0 for none.
        warmup_start: the warm-up's first factor (mmdetection's `warmup_ratio`).

    Example:
    >>> from hrnet_keras.training.schedules import PolyDecay
    >>> schedule = PolyDecay(0.01, decay_steps=100)
    >>> round(float(schedule(50)), 6)  # 0.01 * 0.5 ** 0.9
    0.005359
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        power=0.9,
        end_learning_rate=0.0,
        warmup_steps=0,
        warmup_start=0.0,
    ):
        _check_steps("decay_steps", decay_steps, 1)
        _check_steps("warmup_steps", warmup_steps, 0)
        _check_warmup_start(warmup_start)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.power = power
        self.end_learning_rate = end_learning_rate
        self.warmup_steps = warmup_steps
        self.warmup_start = warmup_start

    def __call__(self, step):
        step = ops.cast(step, "float32")
        progress = ops.minimum(step, float(self.decay_steps)) / float(self.decay_steps)
        rate = self.end_learning_rate + (
            self.initial_learning_rate - self.end_learning_rate
        ) * ops.power(1.0 - progress, self.power)
        return rate * _warmup_factor(step, self.warmup_steps, self.warmup_start)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "power": self.power,
            "end_learning_rate": self.end_learning_rate,
            "warmup_steps": self.warmup_steps,
            "warmup_start": self.warmup_start,
        }


@keras.saving.register_keras_serializable(package="hrnet_keras")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Multiplies the rate by `decay_rate` at each boundary (in steps), after a warm-up.

    Recipes give the boundaries in epochs (`OptimizerConfig.boundaries`); `build_schedule`
    converts them to steps.

    Args:
        initial_learning_rate: rate before the first boundary.
        boundaries: increasing steps at which the rate is multiplied by `decay_rate`.
        decay_rate: 0.1 in the landmark, classification and detection recipes.
        warmup_steps: length of the linear warm-up; 0 for none.
        warmup_start: the warm-up's first factor (mmdetection's `warmup_ratio`; its HRNet
            detection configs warm up from 1/3 of the rate over 500 steps).

    Example:
    >>> from hrnet_keras.training.schedules import StepDecay
    >>> schedule = StepDecay(1e-4, boundaries=[30, 50], decay_rate=0.1)
    >>> [round(float(schedule(s)), 8) for s in (0, 30, 49, 50)]
    [0.0001, 1e-05, 1e-05, 1e-06]
    >>> warm = StepDecay(0.03, boundaries=[100], warmup_steps=10, warmup_start=1 / 3)
    >>> [round(float(warm(s)), 6) for s in (0, 5, 10)]
    [0.01, 0.02, 0.03]
    """

    def __init__(
        self, initial_learning_rate, boundaries, decay_rate=0.1, warmup_steps=0, warmup_start=0.0
    ):
        boundaries = [int(b) for b in boundaries]
        if any(b <= a for a, b in itertools.pairwise(boundaries)):
            raise ValueError(f"`boundaries` must increase. Received: boundaries={boundaries}")
        _check_steps("warmup_steps", warmup_steps, 0)
        _check_warmup_start(warmup_start)
        self.initial_learning_rate = initial_learning_rate
        self.boundaries = boundaries
        self.decay_rate = decay_rate
        self.warmup_steps = warmup_steps
        self.warmup_start = warmup_start

    def __call__(self, step):
        step = ops.cast(step, "float32")
        passed = sum(ops.cast(step >= float(b), "float32") for b in self.boundaries)
        rate = self.initial_learning_rate * ops.power(self.decay_rate, passed)
        return rate * _warmup_factor(step, self.warmup_steps, self.warmup_start)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "boundaries": list(self.boundaries),
            "decay_rate": self.decay_rate,
            "warmup_steps": self.warmup_steps,
            "warmup_start": self.warmup_start,
        }


@keras.saving.register_keras_serializable(package="hrnet_keras")
class ConstantSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A constant rate after an optional linear warm-up.

    Example:
    >>> from hrnet_keras.training.schedules import ConstantSchedule
    >>> [round(float(ConstantSchedule(0.1, warmup_steps=4)(s)), 6) for s in (0, 2, 4, 9)]
    [0.0, 0.05, 0.1, 0.1]
    """

    def __init__(self, learning_rate, warmup_steps=0, warmup_start=0.0):
        _check_steps("warmup_steps", warmup_steps, 0)
        _check_warmup_start(warmup_start)
        self.learning_rate = learning_rate
        self.warmup_steps = warmup_steps
        self.warmup_start = warmup_start

    def __call__(self, step):
        step = ops.cast(step, "float32")
        return self.learning_rate * _warmup_factor(step, self.warmup_steps, self.warmup_start)

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "warmup_steps": self.warmup_steps,
            "warmup_start": self.warmup_start,
        }


SCHEDULES = ("poly", "step", "cosine", "constant")


def build_schedule(config, *, total_steps, steps_per_epoch):
    """The schedule of an `OptimizerConfig`, for a run of `total_steps` steps.

    Args:
        config: an `OptimizerConfig` (`schedule`, `learning_rate`, `power`, `boundaries` in
            epochs, `decay_rate`, `warmup_steps`, `warmup_start`).
        total_steps: the run's optimizer steps (poly decays to 0 over them).
        steps_per_epoch: converts the step schedule's epoch boundaries to steps.

    Example:
    >>> from hrnet_keras.training import OptimizerConfig
    >>> from hrnet_keras.training.schedules import build_schedule
    >>> config = OptimizerConfig(schedule="step", learning_rate=1.0, boundaries=(2,))
    >>> s = build_schedule(config, total_steps=40, steps_per_epoch=10)
    >>> float(s(19)), round(float(s(20)), 6)
    (1.0, 0.1)
    """
    if config.schedule == "poly":
        return PolyDecay(
            config.learning_rate,
            decay_steps=total_steps,
            power=config.power,
            warmup_steps=config.warmup_steps,
            warmup_start=config.warmup_start,
        )
    if config.schedule == "step":
        return StepDecay(
            config.learning_rate,
            boundaries=[int(epoch * steps_per_epoch) for epoch in config.boundaries],
            decay_rate=config.decay_rate,
            warmup_steps=config.warmup_steps,
            warmup_start=config.warmup_start,
        )
    if config.schedule == "cosine":
        # Keras' own: from `warmup_start` times the rate up to the rate over the warm-up,
        # then half a cosine down to 0.
        warmup = config.warmup_steps
        return keras.optimizers.schedules.CosineDecay(
            config.warmup_start * config.learning_rate if warmup else config.learning_rate,
            decay_steps=max(1, total_steps - warmup),
            warmup_target=config.learning_rate if warmup else None,
            warmup_steps=warmup,
        )
    if config.schedule == "constant":
        return ConstantSchedule(
            config.learning_rate,
            warmup_steps=config.warmup_steps,
            warmup_start=config.warmup_start,
        )
    raise ValueError(
        f"`optimizer.schedule` must be one of {SCHEDULES}. Received: schedule={config.schedule!r}"
    )
