"""Segmentation speed of HRNetV2-W48 at 512x1024 in Keras against the same model in PyTorch.

Measures, with batch 1, float32 and 2 threads on this machine: one training step (forward,
OHEM cross-entropy with the Cityscapes class weights, backward, SGD update), single-scale
inference, and the paper's multi-scale + flip inference (scales 0.5-1.75, 512x1024 sliding
windows at a stride of 2/3, flipped passes averaged) with logits upsampled to the input.
Each framework runs in its own subprocess, so that its peak memory (RSS) is its own; the
training step is measured twice for Keras, as built and with activation recomputation
(`recompute="modules"`), each in its own subprocess, and its peak memory is the process's
peak right after the timed steps (before any inference).

PyTorch side: timm's `hrnet_w48` branches (`features_only`), the HRNetV2 concatenation and the
segmentation head (conv1x1 + BN + ReLU + conv1x1) written in torch, channels_last. timm fuses
branches with nearest upsampling, so the Keras model is built with `upsample="nearest"` too.

    python benchmarks/segmentation_speed.py               # 2 training steps, 3 + 1 inferences
    python benchmarks/segmentation_speed.py --steps 1 --runs 1
    python benchmarks/segmentation_speed.py --tasks train   # the training rows alone

`--inference HxW` measures inference alone at HxW (Cityscapes' full size: 1024x2048), each
form in its own subprocess: single scale, and 6 scales + flip with (H/2)x(W/2) windows.
Keras runs the `Predictor` eagerly (the model as built, `graph=False`: what `evaluate` and
`predict` ran before they used the graph), through the BN-folded graph (`graph=True`, the
graph's making timed apart), and, with `--frozen`, through `inference_function`'s frozen
constants by hand; PyTorch eagerly under `inference_mode`. `--evaluate` times
`SegmentationTask.evaluate` of `recipes/voc_sample_tiny.py` at W48 on the VOC samples
(../shared/data/voc_seg) with the paper's 6 scales + flip: as built, as `evaluate` runs it
now (`graph="auto"`), and with `inference_function` by hand; then `predict` on the same
images (drawn masks written) the same three ways.

    python benchmarks/segmentation_speed.py --inference 1024x2048 --multi-scale
    python benchmarks/segmentation_speed.py --evaluate
"""

import argparse
import json
import os
import resource
import subprocess
import sys

from timing import timings

THREADS = 2
SIZE = (512, 1024)
NUM_CLASSES = 19
SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)
STRIDE_RATIO = 2 / 3
TASKS = ("train", "inference")
RECOMPUTE = "modules"


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _inputs():
    import numpy as np

    rng = np.random.default_rng(0)
    image = rng.normal(size=(*SIZE, 3)).astype("float32")
    labels = rng.integers(0, NUM_CLASSES, size=SIZE).astype("int32")
    labels[rng.random(SIZE) < 0.1] = 255
    return image, labels


def worker_keras(steps, runs, tasks=TASKS, recompute="none"):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from hrnet_keras.models import hrnetv2
    from hrnet_keras.segmentation import Predictor, SegmentationLoss
    from hrnet_keras.segmentation.readers.cityscapes import CLASS_WEIGHTS

    image, labels = _inputs()
    model = hrnetv2(
        width=48, num_classes=NUM_CLASSES, upsample="nearest", bn_momentum=0.99, recompute=recompute
    )
    result = {}
    if "train" in tasks:
        model.compile(
            keras.optimizers.SGD(0.01, momentum=0.9),
            loss=SegmentationLoss(NUM_CLASSES, class_weights=CLASS_WEIGHTS, ohem=True),
        )
        # As the trainer does: optimizer variables made inside the first traced step make
        # TensorFlow trace it twice and keep both graphs (docs/training.md, Memory).
        model.optimizer.build(model.trainable_variables)
        train = timings(lambda: model.train_on_batch(image[None], labels[None]), steps, warmup=1)
        result.update(train_step=train, train_peak_rss_mb=_peak_rss_mb())
    if "inference" not in tasks:
        return result
    single = Predictor(model)
    multi = Predictor(model, scales=SCALES, flip=True, crop_size=SIZE, stride_ratio=STRIDE_RATIO)
    return {
        **result,
        "single_scale": timings(lambda: single.labels(image), runs, warmup=1),
        "multi_scale_flip": timings(lambda: multi.labels(image), 1, warmup=0),
    }


def worker_torch(steps, runs, tasks=TASKS):
    import math

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(THREADS)
    weights = torch.tensor(
        [0.8373, 0.918, 0.866, 1.0345, 1.0166, 0.9969, 0.9754, 1.0489, 0.8786, 1.0023,
         0.9539, 0.9843, 1.1116, 0.9037, 1.0865, 1.0955, 1.0865, 1.1529, 1.0507]
    )  # fmt: skip

    def ohem_loss(score, target, thresh=0.9, min_kept=131072, ignore=255):
        # The official OhemCrossEntropy.
        score = F.interpolate(score, size=target.shape[-2:], mode="bilinear")
        pred = F.softmax(score, dim=1)
        losses = F.cross_entropy(
            score, target, weight=weights, ignore_index=ignore, reduction="none"
        ).view(-1)
        mask = target.view(-1) != ignore
        tmp = target.clone()
        tmp[tmp == ignore] = 0
        pred = pred.gather(1, tmp.unsqueeze(1)).view(-1)[mask]
        pred, order = pred.sort()
        threshold = max(pred[min(min_kept, pred.numel() - 1)].item(), thresh)
        return losses[mask][order][pred < threshold].mean()

    image, labels = _inputs()
    x = torch.from_numpy(image).permute(2, 0, 1)[None].contiguous(memory_format=torch.channels_last)
    y = torch.from_numpy(labels).long()[None]
    model = _torch_segmenter()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def train_step():
        optimizer.zero_grad()
        ohem_loss(model(x), y).backward()
        optimizer.step()

    result = {}
    if "train" in tasks:
        model.train()
        result.update(train_step=timings(train_step, steps, warmup=1))
        result["train_peak_rss_mb"] = _peak_rss_mb()
    if "inference" not in tasks:
        return result
    model.eval()

    def logits(img, flip):
        out = F.interpolate(model(img), size=img.shape[-2:], mode="bilinear")
        if flip:
            mirrored = model(img.flip(-1))
            out = (out + F.interpolate(mirrored, size=img.shape[-2:], mode="bilinear").flip(-1)) / 2
        return out

    def windowed(img, flip):
        height, width = img.shape[-2:]
        crop_h, crop_w = SIZE
        if height <= crop_h and width <= crop_w:
            return logits(img, flip)
        img = F.pad(img, (0, max(crop_w - width, 0), 0, max(crop_h - height, 0)))
        full_h, full_w = img.shape[-2:]
        stride_h, stride_w = int(crop_h * STRIDE_RATIO), int(crop_w * STRIDE_RATIO)
        total = torch.zeros(1, NUM_CLASSES, full_h, full_w)
        count = torch.zeros(1, 1, full_h, full_w)
        for r in range(math.ceil(max(full_h - crop_h, 0) / stride_h) + 1):
            for c in range(math.ceil(max(full_w - crop_w, 0) / stride_w) + 1):
                y1, x1 = min(r * stride_h + crop_h, full_h), min(c * stride_w + crop_w, full_w)
                y0, x0 = y1 - crop_h, x1 - crop_w
                total[..., y0:y1, x0:x1] += logits(img[..., y0:y1, x0:x1], flip)
                count[..., y0:y1, x0:x1] += 1
        return (total / count)[..., :height, :width]

    def predict(scales, flip):
        total = 0
        for scale in scales:
            size = [round(v * scale) for v in SIZE]
            scaled = x if scale == 1 else F.interpolate(x, size=size, mode="bilinear")
            total = total + F.interpolate(windowed(scaled, flip), size=SIZE, mode="bilinear")
        return (total / len(scales)).argmax(1)

    with torch.inference_mode():
        single = timings(lambda: predict((1.0,), False), runs, warmup=1)
        multi = timings(lambda: predict(SCALES, True), 1, warmup=0)
    return {**result, "single_scale": single, "multi_scale_flip": multi}


def _torch_segmenter():
    """timm's HRNet-W48 branches, the HRNetV2 concatenation and head, channels_last."""
    import timm
    import torch
    import torch.nn.functional as F

    class HRNetV2Segmenter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = timm.create_model(
                "hrnet_w48", features_only=True, feature_location="", pretrained=False
            )
            channels = 15 * 48
            self.head = torch.nn.Sequential(
                torch.nn.Conv2d(channels, channels, 1),
                torch.nn.BatchNorm2d(channels, momentum=0.01),
                torch.nn.ReLU(inplace=True),
                torch.nn.Conv2d(channels, NUM_CLASSES, 1),
            )

        def forward(self, x):
            _, *branches = self.backbone(x)
            size = branches[0].shape[-2:]
            up = [F.interpolate(b, size=size, mode="bilinear") for b in branches[1:]]
            return self.head(torch.cat([branches[0], *up], dim=1))

    return HRNetV2Segmenter().to(memory_format=torch.channels_last).eval()


def _image(size):
    import numpy as np

    return np.random.default_rng(0).normal(size=(*size, 3)).astype("float32")


def worker_keras_inference(size, protocol, form, runs):
    """Seconds of the `Predictor` at `size` under one protocol and form, and peak RSS."""
    import time

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from hrnet_keras.models import hrnetv2
    from hrnet_keras.segmentation import Predictor

    image = _image(size)
    model = hrnetv2(width=48, num_classes=NUM_CLASSES, upsample="nearest", bn_momentum=0.99)
    options = {}
    if protocol == "multi":
        crop = (size[0] // 2, size[1] // 2)
        options = dict(scales=SCALES, flip=True, crop_size=crop, stride_ratio=STRIDE_RATIO)
    model_mb = _peak_rss_mb()
    start = time.perf_counter()
    if form == "frozen":  # inference_function by hand, as the README shows it
        from hrnet_keras.export import inference_function

        predictor = Predictor(model, graph=False, **options)
        infer = inference_function(model, input_shape=(None, None, 3))
        predictor.runner = infer
    else:
        predictor = Predictor(model, graph=form == "graph", **options)
        if form == "graph":
            predictor.runner(image[None, :64, :64])  # makes the graph
    setup = time.perf_counter() - start
    first = timings(lambda: predictor.labels(image), 1, warmup=0)
    steady = timings(lambda: predictor.labels(image), runs - 1, warmup=0) if runs > 1 else []
    return {"setup": setup, "times": first + steady, "model_mb": model_mb}


def worker_torch_inference(size, protocol, form, runs):
    """PyTorch's seconds for the same protocol (eager, `inference_mode`), and peak RSS."""
    import math

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(THREADS)
    x = torch.from_numpy(_image(size)).permute(2, 0, 1)[None]
    x = x.contiguous(memory_format=torch.channels_last)
    model = _torch_segmenter()
    model_mb = _peak_rss_mb()
    crop_h, crop_w = (size[0] // 2, size[1] // 2) if protocol == "multi" else size
    flip = protocol == "multi"
    scales = SCALES if protocol == "multi" else (1.0,)

    def logits(img):
        out = F.interpolate(model(img), size=img.shape[-2:], mode="bilinear")
        if flip:
            mirrored = model(img.flip(-1))
            out = (out + F.interpolate(mirrored, size=img.shape[-2:], mode="bilinear").flip(-1)) / 2
        return out

    def windowed(img):
        height, width = img.shape[-2:]
        if height <= crop_h and width <= crop_w:
            return logits(img)
        img = F.pad(img, (0, max(crop_w - width, 0), 0, max(crop_h - height, 0)))
        full_h, full_w = img.shape[-2:]
        stride_h, stride_w = int(crop_h * STRIDE_RATIO), int(crop_w * STRIDE_RATIO)
        total = torch.zeros(1, NUM_CLASSES, full_h, full_w)
        count = torch.zeros(1, 1, full_h, full_w)
        for r in range(math.ceil(max(full_h - crop_h, 0) / stride_h) + 1):
            for c in range(math.ceil(max(full_w - crop_w, 0) / stride_w) + 1):
                y1, x1 = min(r * stride_h + crop_h, full_h), min(c * stride_w + crop_w, full_w)
                y0, x0 = y1 - crop_h, x1 - crop_w
                total[..., y0:y1, x0:x1] += logits(img[..., y0:y1, x0:x1])
                count[..., y0:y1, x0:x1] += 1
        return (total / count)[..., :height, :width]

    def predict():
        total = 0
        for scale in scales:
            scaled_size = [round(v * scale) for v in size]
            scaled = x if scale == 1 else F.interpolate(x, size=scaled_size, mode="bilinear")
            total = total + F.interpolate(windowed(scaled), size=size, mode="bilinear")
        return (total / len(scales)).argmax(1)

    with torch.inference_mode():
        times = timings(predict, runs, warmup=0)
    return {"setup": 0.0, "times": times, "model_mb": model_mb}


def worker_evaluate(form, job="evaluate"):
    """Seconds of `SegmentationTask.evaluate` or `predict` (W48, the VOC samples, 6 scales +
    flip)."""
    import pathlib
    import tempfile
    import time

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from hrnet_keras.export import inference_function
    from hrnet_keras.segmentation import Predictor
    from hrnet_keras.training import load_recipe

    root = pathlib.Path(__file__).resolve().parents[1]
    data_dir = root.parent / "shared" / "data" / "voc_seg"
    recipe = load_recipe(str(root / "recipes" / "voc_sample_tiny.py"), ["model.width=48"])
    task = recipe.build_task()
    model = task.build_model()
    start = time.perf_counter()
    if form == "frozen":  # inference_function by hand in the evaluation loop
        infer = inference_function(model, input_shape=(None, None, 3))
        make = task.predictor

        def by_hand(model, **kwargs):
            predictor = make(model, graph=False, **kwargs)
            predictor.runner = infer
            return predictor

        task.predictor = by_hand
    elif form == "eager":
        task.predictor = lambda model, _make=task.predictor, **kw: _make(model, graph=False, **kw)
    elif form != "auto":
        raise ValueError(f"Unknown form. Received: form={form!r}")
    assert isinstance(task.predictor(model), Predictor)
    if job == "predict":
        with tempfile.TemporaryDirectory() as out_dir:
            paths = task.predict(
                model, [data_dir / "JPEGImages"], out_dir, scales=SCALES, flip=True
            )
        return {"times": [time.perf_counter() - start], "outputs": len(paths)}
    scores = task.evaluate(model, data_dir, scales=SCALES, flip=True)
    return {"times": [time.perf_counter() - start], "mIoU": scores["mIoU"]}


def _run_inference_worker(framework, size, protocol, form, runs):
    command = [sys.executable, __file__, "--worker", f"{framework}_inference"]
    command += ["--inference", f"{size[0]}x{size[1]}", "--protocol", protocol]
    command += ["--form", form, "--runs", str(runs)]
    return _run_command(command, f"{framework} {protocol} {form}")


def _run_command(command, name):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": str(THREADS)}
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{name} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def inference_main(size, runs, multi_scale, frozen):
    """Prints the inference table: time and peak RSS of every form, each its own process."""
    rows = [("keras", "eager"), ("keras", "graph")]
    rows += [("keras", "frozen")] if frozen else []
    rows += [("torch", "eager")]
    protocols = ("single", "multi") if multi_scale else ("single",)
    results = {}
    for protocol in protocols:
        for framework, form in rows:
            count = runs if protocol == "single" else 1
            result = _run_inference_worker(framework, size, protocol, form, count)
            results[protocol, framework, form] = result
            print(json.dumps({"protocol": protocol, "framework": framework, "form": form,
                              **result}), flush=True)  # fmt: skip
    print(f"HRNetV2-W48 inference at {size[0]}x{size[1]}, batch 1, float32, {THREADS} threads")
    print(f"  {'':<40} {'setup s':>8} {'first s':>8} {'best s':>8} {'/PyTorch':>8} {'peak MB':>8}")
    for protocol in protocols:
        torch_result = results[protocol, "torch", "eager"]
        for framework, form in rows:
            r = results[protocol, framework, form]
            label = f"{protocol} scale{'' if protocol == 'single' else 's + flip'}"
            label = f"{label}, {'PyTorch' if framework == 'torch' else 'Keras'} {form}"
            ratio = min(r["times"]) / min(torch_result["times"])
            print(f"  {label:<40} {r['setup']:8.1f} {r['times'][0]:8.2f} {min(r['times']):8.2f}"
                  f" {ratio:8.2f} {r['peak_rss_mb']:8.0f}")  # fmt: skip


def evaluate_main():
    """Prints `evaluate`'s and `predict`'s seconds as built, as they run now, and with
    inference_function by hand."""
    results = {}
    for job in ("evaluate", "predict"):
        for form in ("eager", "auto", "frozen"):
            command = [sys.executable, __file__, "--worker", "evaluate", "--form", form]
            results[job, form] = _run_command([*command, "--job", job], f"{job} {form}")
            print(json.dumps({"job": job, "form": form, **results[job, form]}), flush=True)
    print(
        "SegmentationTask evaluate / predict, voc_sample_tiny at W48, 3 VOC images, 6 scales + flip"
    )
    for job in ("evaluate", "predict"):
        for form, label in (
            ("eager", "the model as built (before)"),
            ("auto", "as it runs now (graph='auto')"),
            ("frozen", "inference_function by hand"),
        ):
            r = results[job, form]
            label = f"{job}, {label}"
            print(f"  {label:<42} {r['times'][0]:8.1f} s  peak {r['peak_rss_mb']:6.0f} MB")


def _run_worker(kind, steps, runs, tasks, recompute="none"):
    command = [sys.executable, __file__, "--worker", kind, "--steps", str(steps)]
    command += ["--runs", str(runs), "--tasks", ",".join(tasks), "--recompute", recompute]
    command += ["--size", *map(str, SIZE)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": str(THREADS)}
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _tasks(text):
    tasks = tuple(t for t in text.split(",") if t)
    if not tasks or set(tasks) - set(TASKS):
        raise argparse.ArgumentTypeError(f"--tasks is a comma-separated subset of {TASKS}")
    return tasks


def _print_training(results):
    rows = [("Keras", results["keras"])]
    if "keras_recompute" in results:
        rows.append((f"Keras, recompute={RECOMPUTE!r}", results["keras_recompute"]))
    rows.append(("PyTorch", results["torch"]))
    torch_s = min(results["torch"]["train_step"])
    torch_mb = results["torch"]["train_peak_rss_mb"]
    plain_s = min(results["keras"]["train_step"])
    print("  training step (OHEM + weights, SGD)")
    header = f"{'step s':>8} {'peak MB':>8} {'time/PyTorch':>12} {'memory/PyTorch':>14}"
    print(f"  {'':<34} {header} {'time/Keras':>10}")
    for label, row in rows:
        step_s, mb = min(row["train_step"]), row["train_peak_rss_mb"]
        print(
            f"  {label:<34} {step_s:8.2f} {mb:8.0f} {step_s / torch_s:12.2f} "
            f"{mb / torch_mb:14.2f} {step_s / plain_s:10.2f}"
        )


def main():
    global SIZE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--worker", choices=["keras", "torch", "keras_inference", "torch_inference", "evaluate"]
    )
    parser.add_argument("--steps", type=int, default=2, help="timed training steps")
    parser.add_argument("--runs", type=int, default=3, help="timed single-scale inferences")
    parser.add_argument("--tasks", type=_tasks, default=TASKS, help="train,inference")
    parser.add_argument("--recompute", default="none", help="the Keras worker's recompute")
    parser.add_argument("--size", type=int, nargs=2, default=SIZE, help="training crop")
    parser.add_argument(
        "--no-recompute-row", action="store_true", help="skip the recomputed training step"
    )
    parser.add_argument("--inference", metavar="HxW", help="inference alone at HxW")
    parser.add_argument(
        "--multi-scale", action="store_true", help="with --inference: also 6 scales + flip"
    )
    parser.add_argument("--frozen", action="store_true", help="with --inference: also by hand")
    parser.add_argument("--evaluate", action="store_true", help="time evaluate (see above)")
    parser.add_argument("--protocol", choices=["single", "multi"], default="single")
    parser.add_argument("--form", default="graph")
    parser.add_argument("--job", choices=["evaluate", "predict"], default="evaluate")
    args = parser.parse_args()
    SIZE = tuple(args.size)
    size = tuple(int(v) for v in args.inference.split("x")) if args.inference else None
    if args.worker in ("keras_inference", "torch_inference", "evaluate"):
        if args.worker == "evaluate":
            result = worker_evaluate(args.form, args.job)
        else:
            worker = (
                worker_keras_inference
                if args.worker == "keras_inference"
                else worker_torch_inference
            )
            result = worker(size, args.protocol, args.form, args.runs)
        result["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(result))
        return
    if size is not None:
        inference_main(size, args.runs, args.multi_scale, args.frozen)
        return
    if args.evaluate:
        evaluate_main()
        return
    if args.worker:
        if args.worker == "keras":
            result = worker_keras(args.steps, args.runs, args.tasks, args.recompute)
        else:
            result = worker_torch(args.steps, args.runs, args.tasks)
        result["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(result))
        return

    results = {
        kind: _run_worker(kind, args.steps, args.runs, args.tasks) for kind in ("keras", "torch")
    }
    if "train" in args.tasks and not args.no_recompute_row:
        results["keras_recompute"] = _run_worker("keras", args.steps, 0, ("train",), RECOMPUTE)
    height, width = SIZE
    print(f"HRNetV2-W{48} segmentation at {height}x{width}, batch 1, float32, {THREADS} threads")
    if "train" in args.tasks:
        _print_training(results)
    if "inference" not in args.tasks:
        return
    print(f"  {'':<34} {'Keras s':>8} {'PyTorch s':>9} {'Keras/PyTorch':>13}")
    for key, label in (
        ("single_scale", "inference, single scale"),
        ("multi_scale_flip", f"inference, {len(SCALES)} scales + flip"),
    ):
        keras_s = min(results["keras"][key])
        torch_s = min(results["torch"][key])
        print(f"  {label:<34} {keras_s:8.2f} {torch_s:9.2f} {keras_s / torch_s:13.2f}")
    keras_mb, torch_mb = results["keras"]["peak_rss_mb"], results["torch"]["peak_rss_mb"]
    print(f"  {'peak RSS (MB)':<34} {keras_mb:8.0f} {torch_mb:9.0f} {keras_mb / torch_mb:13.2f}")


if __name__ == "__main__":
    main()
