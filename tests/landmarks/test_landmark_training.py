"""A small model trained on the real sample faces: the training NME falls far below the
mean-shape baseline (the sample faces' mean shape placed in each face's box)."""

import pathlib

import numpy as np
import pytest

from hrnet_keras.landmarks import crop_matrix, crop_to_image, transform_points

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"


def mean_shape_nme(task, faces):
    options = task.options
    crops = np.stack(
        [
            transform_points(
                crop_matrix(f.center, f.scale, output_size=options.input_size), f.landmarks
            ).numpy()
            for f in faces
        ]
    )
    mean = np.broadcast_to(crops.mean(0), crops.shape)
    centers = np.stack([f.center for f in faces])
    scales = np.array([f.scale for f in faces])
    points = crop_to_image(mean, centers, scales, output_size=options.input_size)
    return float(task.score(points, faces).mean())


@pytest.mark.slow
# 300W repeats WFLW's check on another reader's faces (170 s on CI's 2 cores): heavy.
@pytest.mark.parametrize("dataset", ["wflw", pytest.param("300w", marks=pytest.mark.heavy)])
def test_tiny_training_beats_the_mean_shape(shared_data, tmp_path, dataset):
    from hrnet_keras.training import load_recipe
    from hrnet_keras.training.trainer import train

    recipe = load_recipe(
        RECIPES / f"{dataset}_samples_tiny.py", ["runtime.distribution=one_device"]
    )
    data_dir = shared_data / "faces" / dataset
    run = train(recipe, data_dir, tmp_path / "run", verbose=0)
    faces = run.task.read_faces(data_dir, recipe.task.train_annotations)
    baseline = mean_shape_nme(run.task, faces)
    metrics = run.task.evaluate(run.model, data_dir)["train"]
    print(f"{dataset}: training NME {metrics['nme']:.4f}, mean-shape baseline {baseline:.4f}")
    assert metrics["nme"] < 0.6 * baseline
