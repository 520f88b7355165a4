"""TFLite variants of the HRNetV2-W18 face-landmark model (98 points): size, latency, NME.

One command prints the whole table (the defaults are the ones of the published table):

    python benchmarks/tflite_landmarks.py

1. The model: HRNetV2-W18, 256x256 crops, 98 WFLW landmarks, trained here for
   `--train-steps` steps on the real WFLW sample faces with `--augmentation` (the recipe's
   own zoom, rotation and flip by default; `mild` for a narrower range), or loaded from
   `--weights`.
2. The evaluation set: `--eval-crops` crops of each sample face drawn by the same
   augmentation with another seed, their landmarks transformed alongside, rounded to uint8
   as a phone's crop would be. NME is inter-ocular, per crop, averaged.
3. For each quantisation (none, float16, dynamic, int8) the served graph (uint8 crop in,
   landmarks in crop pixels out, decoding inside) is exported; int8 is calibrated on
   `--calibration-steps` crops of the training pipeline. Reported: file size; NME of the
   TFLite file and of the Keras float model on the same crops, the relative difference
   with its standard error (from the per-crop differences); the mean distance between
   TFLite and Keras landmarks; the latency of one crop under LiteRT with XNNPACK and
   `--threads` threads: `--rounds` rounds interleaved across the variants, each the median
   of `--runs` invocations, and the median of the rounds.
"""

import argparse
import json
import os
import statistics
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from hrnet_keras.export.litert import load_interpreter, median_latency_ms, run_signature
from hrnet_keras.export.tflite import QUANTIZATIONS, convert_variants
from hrnet_keras.landmarks import LandmarkConfig, normalisers
from hrnet_keras.landmarks.pipeline import crop_face, face_tensors
from hrnet_keras.training import ModelConfig, OptimizerConfig, Recipe, RuntimeConfig

EVAL_SEED = 12345


# The crops the model is trained, calibrated and evaluated on. "recipe": the WFLW recipe's
# augmentation (zoom 0.75-1.25, rotation +-30 degrees with probability 0.6, flip), which a
# W18 does not learn from 4 faces in a few hundred steps. "mild": zoom 0.9-1.1, rotation
# +-10 degrees with probability 0.5, flip; enough variety for a per-crop NME statistic on
# a model that has learned the faces.
AUGMENTATIONS = {
    "recipe": {},
    "mild": {"scale_range": (0.9, 1.1), "rotation": 10.0, "rotation_probability": 0.5},
}


def build_recipe(annotations, args):
    """The benchmark's recipe: the WFLW W18 recipe's task on the sample faces, with
    `--augmentation` and `--sigma`, a learning rate and BN momentum for a short run."""
    return Recipe(
        task=LandmarkConfig(
            dataset="wflw",
            train_annotations=annotations,
            eval_annotations={"samples": annotations},
            input_size=args.input_size,
            decoder=args.decoder,
            sigma=args.sigma,
            **AUGMENTATIONS[args.augmentation],
        ),
        model=ModelConfig(builder="hrnetv2", width=args.width, num_classes=98, bn_momentum=0.9),
        optimizer=OptimizerConfig(
            name="adam", learning_rate=args.learning_rate, schedule="constant"
        ),
        runtime=RuntimeConfig(global_batch_size=4, steps_per_epoch=args.train_steps, seed=0),
    )


def evaluation_crops(faces, options, per_face):
    """`per_face` augmented uint8 crops of each face and their crop landmarks."""
    data = tf.data.Dataset.from_tensor_slices(face_tensors(faces)).repeat(per_face).enumerate()
    seed = tf.constant(EVAL_SEED, tf.int64)
    data = data.map(
        lambda i, face: crop_face(face, options, seed=tf.stack([seed, i]), num_landmarks=98)
    )
    crops, points = zip(*((c.numpy(), p.numpy()) for c, p in data.batch(16)))
    crops = np.clip(np.round(np.concatenate(crops)), 0, 255).astype(np.uint8)
    return crops, np.concatenate(points)


def per_crop_nme(predicted, truth):
    return np.linalg.norm(predicted - truth, axis=-1).mean(-1) / normalisers(truth, "wflw")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data", "faces", "wflw"))
    parser.add_argument("--annotations", default="face_landmarks_wflw_test.csv")
    parser.add_argument("--width", default="18", help="HRNet width (18, or e.g. 18-small-v1)")
    parser.add_argument("--input-size", type=int, default=256)
    parser.add_argument("--decoder", default="shift", choices=("shift", "dark"))
    parser.add_argument("--weights", default=None, help="a trained .weights.h5 (no training)")
    parser.add_argument("--save-weights", default=None, help="keep the trained weights here")
    parser.add_argument("--augmentation", default="recipe", choices=sorted(AUGMENTATIONS))
    parser.add_argument("--sigma", type=float, default=None, help="target sigma (the dataset's)")
    parser.add_argument("--train-steps", type=int, default=120)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--eval-crops", type=int, default=32, help="augmented crops per face")
    parser.add_argument("--calibration-steps", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    args.width = int(args.width) if args.width.isdigit() else args.width
    load_before = os.getloadavg()

    keras.utils.set_random_seed(0)
    recipe = build_recipe(args.annotations, args)
    task = recipe.build_task()
    model = task.build_model()
    if args.weights:
        model.load_weights(args.weights)
        origin = f"weights {os.path.basename(args.weights)}"
    else:
        model.compile(keras.optimizers.Adam(args.learning_rate), task.build_loss())
        data = task.build_dataset(args.data_dir, training=True, batch_size=4)
        start = time.time()
        model.fit(data, steps_per_epoch=args.train_steps, epochs=1, verbose=0)
        origin = (
            f"trained {args.train_steps} steps (batch 4, {args.augmentation} augmentation, "
            f"lr {args.learning_rate:g}) on the samples "
            f"in {time.time() - start:.0f} s"
        )
    if args.save_weights:
        model.save_weights(args.save_weights)
    print(origin, flush=True)
    faces = task.read_faces(args.data_dir, args.annotations)
    crops, truth = evaluation_crops(faces, task.options, args.eval_crops)
    served = task.serving_model(model)
    keras_points = np.concatenate(
        [np.asarray(served(crops[i : i + 8])["landmarks"]) for i in range(0, len(crops), 8)]
    )
    keras_nme = per_crop_nme(keras_points, truth)
    # The NME of one mean face (the crops' average landmarks) for every crop: a model above
    # it has not learned the faces, and its NME columns compare untrained outputs.
    mean_face_nme = float(per_crop_nme(np.broadcast_to(truth.mean(0), truth.shape), truth).mean())
    print(f"Keras NME {keras_nme.mean():.4f}, mean-face NME {mean_face_nme:.4f}", flush=True)
    if keras_nme.mean() >= mean_face_nme:
        print(
            "WARNING: the model is no better than a mean face: train longer "
            "(--train-steps; --save-weights, then --weights).",
            flush=True,
        )

    start = time.time()
    calibration = list(task.calibration_data(args.data_dir, args.calibration_steps))
    variants = convert_variants(
        served,
        QUANTIZATIONS,
        representative_data=calibration,
        float_layers=task.float_layers,
    )
    print(f"converted the {len(variants)} variants in {time.time() - start:.0f} s", flush=True)
    rows, interpreters = [], {}
    with tempfile.TemporaryDirectory() as folder:
        for quantize, flatbuffer in variants.items():
            path = os.path.join(folder, f"landmarks_{quantize}.tflite")
            with open(path, "wb") as f:
                f.write(flatbuffer)
            interpreters[quantize] = load_interpreter(path, num_threads=args.threads)
            points = run_signature(interpreters[quantize], crops)["landmarks"]
            nme = per_crop_nme(points, truth)
            difference = (nme - keras_nme) / keras_nme.mean()
            rows.append(
                {
                    "quantize": quantize,
                    "size_mb": os.path.getsize(path) / 2**20,
                    "nme_tflite": float(nme.mean()),
                    "nme_keras": float(keras_nme.mean()),
                    "nme_relative_diff": float(difference.mean()),
                    "nme_relative_diff_se": float(difference.std(ddof=1) / np.sqrt(len(nme))),
                    "mean_shift_px": float(np.linalg.norm(points - keras_points, axis=-1).mean()),
                }
            )
            print(json.dumps(rows[-1]), flush=True)

        rounds = {q: [] for q in interpreters}
        for _ in range(args.rounds):
            for quantize, interpreter in interpreters.items():
                rounds[quantize].append(
                    median_latency_ms(interpreter, crops[:1], runs=args.runs, warmup=2)
                )
        for row in rows:
            row["latency_ms"] = statistics.median(rounds[row["quantize"]])
            row["latency_rounds_ms"] = rounds[row["quantize"]]
    load_after = os.getloadavg()

    print(
        f"\nHRNetV2-W{args.width}, 98 landmarks, {args.input_size}x{args.input_size} uint8 crop, "
        f"batch 1, `{args.decoder}` decoder in the graph; {origin}.\n"
        f"NME (inter-ocular) on {len(crops)} crops, {args.augmentation} augmentation "
        f"({args.eval_crops} of each of "
        f"the {len(faces)} WFLW sample faces); rel. diff = mean of per-crop (TFLite - Keras) "
        f"/ Keras NME, +- its standard error; one mean face for every crop: NME "
        f"{mean_face_nme:.4f}.\nLatency: LiteRT XNNPACK, {args.threads} "
        f"threads, median of {args.rounds} interleaved rounds of {args.runs} runs. Load "
        f"average {load_before[0]:.1f} before, {load_after[0]:.1f} after.\n"
    )
    header = ["variant", "size (MB)", "latency (ms)", "NME TFLite", "NME Keras"]
    header += ["NME rel. diff", "mean shift (crop px)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        cells = [r["quantize"], f"{r['size_mb']:.1f}", f"{r['latency_ms']:.1f}"]
        cells += [f"{r['nme_tflite']:.4f}", f"{r['nme_keras']:.4f}"]
        diff, se = 100 * r["nme_relative_diff"], 100 * r["nme_relative_diff_se"]
        cells += [f"{diff:+.2f}% +- {se:.2f}%", f"{r['mean_shift_px']:.2f}"]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"weights": origin, "args": vars(args), "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
