"""A tiny classifier learns the real handwritten digits: >= 95% top-1 on a held-out split.

HRNet-W18-small-v1 (its three stages of one module each make the fewest operations per step
of the HRNet variants) on 32x32 crops of the 20x20 digit cells, from random weights, Adam
with a cosine decay. 4500 digits train, 500 (10% of each class) are held out. The run's
wall time is printed; the full run is heavy, the default run trains 60 steps on fewer
digits and asks for well above chance (10%).
"""

import time

import pytest
from classification_trees import write_digit_tree

from hrnet_keras.classification import ClassificationConfig
from hrnet_keras.models.presets import CLASSIFICATION
from hrnet_keras.training import OptimizerConfig, Recipe, RuntimeConfig, evaluate, train


def digits_recipe(steps):
    return Recipe(
        ClassificationConfig(
            crop_size=32,
            scale_range=(0.8, 1.0),
            ratio_range=(0.8, 1.25),
            flip=False,  # digits are not mirror-symmetric
            eval_crop_pct=1.0,
            eval_batch_size=100,
        ),
        CLASSIFICATION.model_config(width="18-small-v1"),
        OptimizerConfig(name="adam", learning_rate=2e-3, weight_decay=0.0, schedule="cosine"),
        RuntimeConfig(
            global_batch_size=32,
            epochs=1,
            steps_per_epoch=steps,
            sync_bn=False,
            checkpoint_every_steps=0,
            seed=0,
        ),
    )


@pytest.mark.heavy
def test_digits_learn_well_above_chance_in_60_steps(digits, tmp_path):
    root = write_digit_tree(digits, tmp_path / "digits", range(200))
    run = train(digits_recipe(60), root, tmp_path / "run", verbose=0)
    metrics = run.task.evaluate(run.model, root)
    print(f"digits, 60 steps: top-1 {metrics['top1']:.3f}")
    assert metrics["num_images"] == 200
    assert metrics["top1"] >= 0.5, metrics


@pytest.mark.heavy
def test_digits_reach_95_percent_on_held_out_images(digits, tmp_path):
    root = write_digit_tree(digits, tmp_path / "digits", range(500))
    start = time.perf_counter()
    run = train(digits_recipe(300), root, tmp_path / "run", verbose=0)
    trained = time.perf_counter() - start
    metrics = evaluate(run.task.recipe, root, tmp_path / "run" / "last.weights.h5")
    print(
        f"digits: {run.steps} steps in {trained:.0f} s, evaluated in "
        f"{time.perf_counter() - start - trained:.0f} s: top-1 {metrics['top1']:.3f}"
    )
    assert metrics["num_images"] == 500
    assert metrics["top1"] >= 0.95, metrics
    assert min(metrics["per_class_accuracy"].values()) >= 0.8, metrics["per_class_accuracy"]
