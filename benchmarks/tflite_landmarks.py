"""TFLite variants of the HRNetV2-W18 face-landmark model (98 points): size, latency, NME.

For each quantisation (none, float16, dynamic, int8) this exports the served graph (uint8
RGB 256x256 crop in, landmark coordinates in crop pixels out, decoding inside), then reports
the file size, the median latency of one face under LiteRT with XNNPACK and `--threads`
threads, and the NME on the real WFLW sample faces against the Keras model's own NME.

The weights are either `--weights` (a trained `.weights.h5`), or the model trained here for
`--train-steps` steps on the sample faces (the default: a brief run, so that heatmaps have
peaks and the NME comparison means something). int8 is calibrated on augmented crops of
the same faces (the recipe pipeline's training augmentation).

    python benchmarks/tflite_landmarks.py --data-dir ../shared/data/faces/wflw
"""

import argparse
import json
import os
import tempfile
import time

import keras
import numpy as np

from hrnet_keras.export.litert import load_interpreter, median_latency_ms, run_signature
from hrnet_keras.export.tflite import QUANTIZATIONS, export_tflite
from hrnet_keras.landmarks import LandmarkConfig, crop_to_image, face_dataset
from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig


def build_recipe(data_file, steps):
    return Recipe(
        task=LandmarkConfig(
            dataset="wflw",
            train_annotations=data_file,
            eval_annotations={"samples": data_file},
            scale_range=(1.0, 1.0),
            rotation_probability=0.0,
            flip_probability=0.0,
        ),
        model=ModelConfig(builder="hrnetv2", width=18, num_classes=98, bn_momentum=0.99),
        optimizer=OptimizerConfig(name="adam", learning_rate=2e-3, schedule="constant"),
        runtime=RuntimeConfig(global_batch_size=4, steps_per_epoch=steps),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data", "faces", "wflw"))
    parser.add_argument("--annotations", default="face_landmarks_wflw_test.csv")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--train-steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--calibration-steps", type=int, default=64)
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument(
        "--recipe",
        default=None,
        help="benchmark this recipe's model (trained for its steps) instead of W18",
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    recipe = build_recipe(args.annotations, args.train_steps)
    if args.recipe:
        from hrnet_keras.training import load_recipe

        recipe = load_recipe(args.recipe)
        args.train_steps = recipe.runtime.steps_per_epoch
    task = recipe.build_task()
    model = task.build_model()
    faces = task.read_faces(args.data_dir, args.annotations)
    if args.weights:
        model.load_weights(args.weights)
        origin = f"weights {os.path.basename(args.weights)}"
    else:
        model.compile(keras.optimizers.Adam(recipe.optimizer.learning_rate), task.build_loss())
        batch_size = recipe.runtime.global_batch_size
        data = task.build_dataset(args.data_dir, training=True, batch_size=batch_size)
        start = time.time()
        model.fit(data, steps_per_epoch=args.train_steps, epochs=1, verbose=0)
        origin = f"trained {args.train_steps} steps on the samples ({time.time() - start:.0f} s)"
    served = task.serving_model(model)
    batch = next(
        iter(
            face_dataset(faces, task.options, training=False, batch_size=len(faces), targets=False)
        )
    )
    crops = np.clip(np.round(batch["crop"].numpy()), 0, 255).astype(np.uint8)
    centers = np.stack([f.center for f in faces])
    scales = np.array([f.scale for f in faces])

    def nme(crop_points):
        size = task.options.input_size
        points = crop_to_image(crop_points, centers, scales, output_size=size)
        return float(task.score(points, faces).mean())

    keras_points = np.asarray(served(crops)["landmarks"])
    keras_nme = nme(keras_points)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for quantize in QUANTIZATIONS:
            path = os.path.join(folder, f"landmarks_{quantize}.tflite")
            start = time.time()
            calibration = None
            if quantize == "int8":
                calibration = task.calibration_data(args.data_dir, args.calibration_steps)
            export_tflite(
                model, path, task=task, quantize=quantize, representative_data=calibration
            )
            convert_s = time.time() - start
            interpreter = load_interpreter(path, num_threads=args.threads)
            points = run_signature(interpreter, crops)["landmarks"]
            latency = median_latency_ms(interpreter, crops[:1], runs=args.runs)
            tflite_nme = nme(points)
            rows.append(
                {
                    "quantize": quantize,
                    "size_mb": os.path.getsize(path) / 2**20,
                    "latency_ms": latency,
                    "nme_keras": keras_nme,
                    "nme_tflite": tflite_nme,
                    "nme_relative_diff": (tflite_nme - keras_nme) / keras_nme,
                    "mean_shift_px": float(np.linalg.norm(points - keras_points, axis=-1).mean()),
                    "convert_s": convert_s,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    print(
        f"\n{model.name}, 98 landmarks, {task.options.input_size}px uint8 crop, batch 1; {origin}; "
        f"LiteRT XNNPACK, {args.threads} threads, median of {args.runs} runs; "
        f"NME on {len(faces)} WFLW sample faces (inter-ocular).\n"
    )
    header = ["variant", "size (MB)", "latency (ms)", "NME TFLite", "NME Keras", "NME rel. diff"]
    header.append("mean shift (crop px)")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        cells = [r["quantize"], f"{r['size_mb']:.1f}", f"{r['latency_ms']:.1f}"]
        cells += [f"{r['nme_tflite']:.4f}", f"{r['nme_keras']:.4f}"]
        cells += [f"{100 * r['nme_relative_diff']:+.2f}%", f"{r['mean_shift_px']:.2f}"]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"weights": origin, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
