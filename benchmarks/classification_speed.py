"""Training speed of HRNet-W18-C at 224x224, batch 32, in Keras against timm's `hrnet_w18`.

One training step = forward, softmax cross-entropy on one-hot targets, backward, an SGD
update with Nesterov momentum 0.9 and weight decay 1e-4 (the official ImageNet setting):
Keras' `train_on_batch` of `hrnet_classifier(width=18)` (float32, the task's loss and
metrics) against timm's `hrnet_w18` in PyTorch at its fastest on a CPU (channels_last
memory format; `--torch-compile` adds a `torch.compile` variant). Each framework runs in its
own subprocess, so that its peak memory (RSS) is its own; the frameworks alternate for
`--rounds` rounds, so that a busy machine slows both alike, and the medians are reported.

    python benchmarks/classification_speed.py                # 3 rounds of 3 timed steps
    python benchmarks/classification_speed.py --rounds 1 --steps 2
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys

from timing import timings

BATCH = 32
SIZE = 224
NUM_CLASSES = 1000


def _batch():
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.normal(size=(BATCH, SIZE, SIZE, 3)).astype("float32")
    labels = rng.integers(0, NUM_CLASSES, size=BATCH)
    return images, labels


def worker_keras(steps, threads):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    import numpy as np

    from hrnet_keras.classification.metrics import training_metrics
    from hrnet_keras.models import hrnet_classifier
    from hrnet_keras.training.optimizers import apply_l2_regularization

    images, labels = _batch()
    targets = np.eye(NUM_CLASSES, dtype="float32")[labels]
    model = apply_l2_regularization(hrnet_classifier(width=18, input_shape=(SIZE, SIZE, 3)), 1e-4)
    model.compile(
        keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=training_metrics(NUM_CLASSES),
    )
    return {"train_step": timings(lambda: model.train_on_batch(images, targets), steps, warmup=2)}


def worker_torch(steps, threads, compiled=False):
    import timm
    import torch

    torch.set_num_threads(threads)
    images, labels = _batch()
    x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    y = torch.from_numpy(labels)
    model = timm.create_model("hrnet_w18", num_classes=NUM_CLASSES).to(
        memory_format=torch.channels_last
    )
    model.train()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4
    )
    forward = torch.compile(model) if compiled else model

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(forward(x), y)
        loss.backward()
        optimizer.step()

    return {"train_step": timings(step, steps, warmup=2 if compiled else 1)}


WORKERS = {
    "keras": ("Keras hrnet_classifier(width=18), TensorFlow", worker_keras),
    "torch": ("PyTorch timm hrnet_w18, eager, channels_last", worker_torch),
    "torch_compile": (
        "PyTorch timm hrnet_w18, torch.compile, channels_last",
        lambda steps, threads: worker_torch(steps, threads, compiled=True),
    ),
}


def _run_worker(kind, steps, threads):
    command = [sys.executable, __file__, "--worker", kind, "--steps", str(steps)]
    command += ["--threads", str(threads)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": str(threads)}
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=sorted(WORKERS))
    parser.add_argument("--steps", type=int, default=3, help="timed steps per worker run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads per run")
    parser.add_argument("--torch-compile", action="store_true", help="also torch.compile")
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker][1](args.steps, args.threads)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    kinds = ["keras", "torch"] + (["torch_compile"] if args.torch_compile else [])
    steps = {kind: [] for kind in kinds}
    memory = {kind: [] for kind in kinds}
    for round_ in range(args.rounds):
        for kind in kinds if round_ % 2 == 0 else kinds[::-1]:
            result = _run_worker(kind, args.steps, args.threads)
            steps[kind] += result["train_step"]
            memory[kind].append(result["peak_rss_mb"])
            median = statistics.median(result["train_step"])
            print(f"round {round_ + 1}, {kind}: {BATCH / median:.2f} images/s", flush=True)
    print(
        f"\nHRNet-W18-C training at {SIZE}x{SIZE}, batch {BATCH}, float32, {args.threads} "
        f"threads; medians of {args.rounds} x {args.steps} steps"
    )
    print(f"  {'':<54} {'s/step':>7} {'images/s':>9} {'peak RSS MB':>12}")
    for kind in kinds:
        median = statistics.median(steps[kind])
        rss = statistics.median(memory[kind])
        print(f"  {WORKERS[kind][0]:<54} {median:7.2f} {BATCH / median:9.2f} {rss:12.0f}")
    keras_s = statistics.median(steps["keras"])
    for kind in kinds[1:]:
        ratio = keras_s / statistics.median(steps[kind])
        print(f"  step time Keras / {kind}: {ratio:.2f} (goal <= 1.0)")


if __name__ == "__main__":
    main()
