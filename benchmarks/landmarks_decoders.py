"""Decoders compared: the reference's quarter-pixel shift against DARK, on the sample faces.

Trains the tiny sample recipe (`recipes/<dataset>_samples_tiny.py`) briefly, then reports the
training-set NME of both decoders, and the same on oracle heatmaps (the pipeline's own
targets, with the Gaussian centred at the exact sub-pixel point), where decoding is the only
error.

    python benchmarks/landmarks_decoders.py --dataset wflw
"""

import argparse
import json
import os

import keras
import numpy as np

from hrnet_keras.landmarks import crop_to_image, decode_heatmaps, gaussian_heatmaps
from hrnet_keras.landmarks.geometry import crop_to_heatmap, heatmap_to_crop
from hrnet_keras.landmarks.pipeline import crop_face, face_tensors
from hrnet_keras.training import load_recipe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def oracle_nme(task, faces, method):
    """NME when the heatmaps are the exact sub-pixel Gaussians of the true landmarks."""
    options = task.options
    size = options.input_size // options.stride
    points = []
    for face in faces:
        fields = {k: v[0] for k, v in face_tensors([face]).items()}
        _, crop_points = crop_face(fields, options)
        target = gaussian_heatmaps(
            crop_to_heatmap(crop_points.numpy()), size, options.sigma, round_centers=False
        )
        decoded = np.asarray(decode_heatmaps(target[None], method, options.sigma))[0]
        points.append(heatmap_to_crop(decoded))
    centers = np.stack([f.center for f in faces])
    scales = np.array([f.scale for f in faces])
    image = crop_to_image(np.stack(points), centers, scales, output_size=options.input_size)
    return float(task.score(image, faces).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="wflw")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or os.path.join(ROOT, "..", "shared", "data", "faces", args.dataset)
    recipe = load_recipe(os.path.join(ROOT, "recipes", f"{args.dataset}_samples_tiny.py"))
    keras.utils.set_random_seed(recipe.runtime.seed)
    task = recipe.build_task()
    faces = task.read_faces(data_dir, recipe.task.train_annotations)
    model = task.build_model()
    model.compile(keras.optimizers.Adam(recipe.optimizer.learning_rate), task.build_loss())
    steps = args.steps or recipe.runtime.steps_per_epoch
    data = task.build_dataset(data_dir, training=True, batch_size=recipe.runtime.global_batch_size)
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    results = {"dataset": args.dataset, "faces": len(faces), "steps": steps}
    for method in ("shift", "dark"):
        predictions = task.predict_faces(model, faces, decoder=method)
        results[f"trained_{method}"] = float(task.score(predictions, faces).mean())
        results[f"oracle_{method}"] = oracle_nme(task, faces, method)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
