"""Faster and Mask R-CNN with HRNetV2p in Keras against the same detectors in PyTorch/torchvision.

Both sides compute the same detector with the same weights: the torchvision reference of
`tests/helpers/torch_faster_rcnn_reference.py` (timm's HRNet, mmdetection's HRFPN, torchvision's
RPN and RoI heads set to mmdetection v2's inference) with its seeded random weights, written
once per width in mmdetection's key layout and read into `hrnet_keras.models.faster_rcnn`
(backbone and neck by `hrnet_keras.convert`, heads here). `--models mask` (or `faster,mask`)
adds Mask R-CNN: the same reference with torchvision's `MaskRCNN` mask branch
(`tests/helpers/torch_mask_rcnn_reference.py`: RoIAlign 14x14, four 3x3 convs, a 2x
deconvolution, 81 class masks of 28x28 for each detection) against
`hrnet_keras.models.mask_rcnn` filled from the same weights by `hrnet_keras.convert`; both
return the 28x28 mask probabilities of the detections (pasting into the image is a separate
step on both sides). Mask R-CNN is timed for inference (and `--breakdown`) only; the
training step and the multiply-adds are Faster R-CNN's. Each measurement runs in its own
subprocess with 2 threads, batch 1, float32, so that peak memory (RSS high-water) is that
variant's alone; the variants alternate for several rounds and medians are compared.
PyTorch's OpenMP threads wait passively (`OMP_WAIT_POLICY=PASSIVE`): spinning ones are
several times slower as soon as other processes share the cores, and no faster on idle ones.

- Inference on an 800 x 1216 image (mmdetection's padded canvas for a 800 x 1200 image):
  Keras under `tf.function` as built, with batch norm folded (`fold_batch_norm` on the
  backbone), folded and frozen to constants (as `export.inference_function`), folded under
  XLA (`jit_compile=True`), all with TensorFlow's oneDNN kernels (`TF_ENABLE_ONEDNN_OPTS=1`,
  TensorFlow's default on CPUs with AVX-512 VNNI/BF16 or AMX), and frozen with its Eigen
  kernels (`=0`), whose allocator returns large buffers to the system, so that every
  gigabyte-sized tensor (RoIAlign's gathered windows) is paid again in page faults; PyTorch
  eager (channels_last, `inference_mode`) and with the backbone + neck frozen by TorchScript
  (`jit.freeze(jit.trace(...))`, which folds batch norm), the heads eager: the RPN's and RoI
  heads' shapes depend on the data (top-k, NMS), which tracing cannot follow, and scripting
  them would fold nothing.
- One training step (forward, the four losses, backward, SGD update) on an 800 x 1344
  batch (mmdetection's padded batch of landscape COCO images; the Keras pipeline's default
  canvas, 1344 x 1344 with 1.68 times the pixels, is `--train-size 1344x1344`), batch 1:
  Keras `train_on_batch` (as `fit` steps), also under XLA, against the torchvision
  reference's training step (RPN and RoI losses), both with the backbone's batch norm
  frozen (`norm_eval`) and the recipe's SGD: momentum 0.9, gradients clipped to a global
  norm of 35, lr 2e-5 (0.02 at the warm-up's first step).
- With `--breakdown`, the time of each stage (backbone + neck, RPN head + proposals,
  RoIAlign, box head fcs, detection post-processing) on each side.
- The multiply-adds of the Keras detector, part by part (`detection_flops.py`), at
  mmdetection's `get_flops` input (1280 x 800, 1000 RoIs) and at the HRNet detection README's
  setting (800 x 1200 padded to 800 x 1216, 512 RoIs), against the README's GFLOPs.

    python benchmarks/detection_speed.py                    # W18, 3 rounds
    python benchmarks/detection_speed.py --widths 18,32 --breakdown
    python benchmarks/detection_speed.py --quick            # small images, 1 round
    python benchmarks/detection_speed.py --models mask --tasks infer --breakdown
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile

from timing import timings

THREADS = 2
SEED = 0
NUM_CLASSES = 80
INFER_SIZE = (800, 1216)
TRAIN_SIZE = (800, 1344)
QUICK_INFER, QUICK_TRAIN = (128, 192), (128, 128)
LEARNING_RATE = 0.02 * 0.001
CLIP_NORM = 35.0
BOXES_PER_IMAGE = 6
# The HRNet detection README's Faster R-CNN GFLOPs.
PUBLISHED_GFLOPS = {18: 159.1, 32: 245.3, 40: 314.9, 48: 399.1}
EIGEN = "-eigen"
RETRIES = 2
HELPERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "helpers")


def _width(text):
    return int(text) if text.isdigit() else text


# ---------------------------------------------------------------- workers: weights, inputs


MODELS = {"faster": "Faster R-CNN", "mask": "Mask R-CNN"}


def worker_weights(width, path, model_name="faster"):
    """Builds the seeded torch reference and writes its weights (mmdet layout) to `path`."""
    sys.path.insert(0, HELPERS)
    from safetensors.numpy import save_file

    if model_name == "mask":
        from torch_mask_rcnn_reference import build_mask_reference, mask_state_dict

        state = mask_state_dict(build_mask_reference(width, NUM_CLASSES, seed=SEED))
    else:
        from torch_faster_rcnn_reference import build_reference, reference_state_dict

        state = reference_state_dict(build_reference(width, NUM_CLASSES, seed=SEED))
    save_file(state, path)
    return {}


def _images(size, batch):
    import numpy as np

    return np.random.default_rng(1).standard_normal((batch, *size, 3)).astype("float32")


def _boxes(size, batch):
    """`(batch, BOXES_PER_IMAGE, 4)` xyxy ground-truth boxes and `(batch, n)` labels 0..79."""
    import numpy as np

    rng = np.random.default_rng(2)
    height, width = size
    side = np.exp(rng.uniform(np.log(16), np.log(min(size) / 2), (batch, BOXES_PER_IMAGE, 2)))
    x1 = rng.uniform(0, width - side[..., 0])
    y1 = rng.uniform(0, height - side[..., 1])
    boxes = np.stack([x1, y1, x1 + side[..., 0], y1 + side[..., 1]], -1).astype("float32")
    return boxes, rng.integers(0, NUM_CLASSES, (batch, BOXES_PER_IMAGE)).astype("int32")


# ---------------------------------------------------------------- Keras


def _folded_detector(model):
    """The same detector (its class, config and head weights) on the BN-folded backbone."""
    from hrnet_keras.models import fold_batch_norm

    config = model.get_config()
    config.pop("backbone")
    other = type(model)(fold_batch_norm(model.backbone), **config)
    for name in ("rpn_head", "roi_head", "mask_head"):
        if hasattr(model, name):
            getattr(other, name).set_weights(getattr(model, name).get_weights())
    return other


def keras_mask_detector(width, weights, folded=False):
    """`mask_rcnn(width)` filled from the reference's mmdetection-layout weights by the
    checkpoint converter; `folded`: BN folded into the convs."""
    from hrnet_keras.convert.checkpoint_io import read_checkpoint
    from hrnet_keras.convert.key_layouts import canonicalize
    from hrnet_keras.convert.porting import fill_model
    from hrnet_keras.models import mask_rcnn

    model = mask_rcnn(width=width, num_classes=NUM_CLASSES)
    fill_model(model, canonicalize(read_checkpoint(weights)), path=weights)
    return _folded_detector(model) if folded else model


def keras_detector(width, weights, folded=False, model_name="faster"):
    """`faster_rcnn(width)` with the reference's weights; `folded`: BN folded into the convs."""
    if model_name == "mask":
        return keras_mask_detector(width, weights, folded)
    import numpy as np
    from safetensors.numpy import load_file

    from hrnet_keras.convert import load_torch_weights
    from hrnet_keras.models import faster_rcnn

    model = faster_rcnn(width=width, num_classes=NUM_CLASSES)
    load_torch_weights(model.backbone, weights)
    state = load_file(weights)

    def dense(name, kernel=None):
        w = state[f"roi_head.bbox_head.{name}.weight"]
        return [kernel if kernel is not None else w.T, state[f"roi_head.bbox_head.{name}.bias"]]

    for name in ("rpn_conv", "rpn_cls", "rpn_reg"):
        w, b = state[f"rpn_head.{name}.weight"], state[f"rpn_head.{name}.bias"]
        getattr(model.rpn_head, name).set_weights([w.transpose(2, 3, 1, 0), b])
    # torchvision flattens the pooled (C, 7, 7) features, Keras (7, 7, C).
    fc1 = state["roi_head.bbox_head.shared_fcs.0.weight"]
    channels, size = model.backbone.output["P2"].shape[-1], model.roi_head.roi_size
    fc1 = fc1.reshape(-1, channels, size, size).transpose(2, 3, 1, 0).reshape(-1, fc1.shape[0])
    head = model.roi_head
    head.shared_fc1.set_weights(dense("shared_fcs.0", np.ascontiguousarray(fc1)))
    head.shared_fc2.set_weights(dense("shared_fcs.1"))
    head.fc_cls.set_weights(dense("fc_cls"))
    head.fc_reg.set_weights(dense("fc_reg"))
    return _folded_detector(model) if folded else model


def _keras_threads():
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return tf


def worker_keras(width, size, runs, variant, weights, model_name="faster"):
    tf = _keras_threads()
    variant = variant.removesuffix(EIGEN)
    model = keras_detector(width, weights, folded=variant != "function", model_name=model_name)
    x = tf.constant(_images(size, 1))
    if variant == "frozen":
        from tensorflow.python.framework.convert_to_constants import (
            convert_variables_to_constants_v2,
        )

        traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(
            tf.TensorSpec(x.shape, tf.float32)
        )
        frozen = convert_variables_to_constants_v2(traced)
        structure = traced.structured_outputs

        def forward(x):
            return tf.nest.pack_sequence_as(structure, frozen(x))
    else:
        forward = tf.function(lambda x: model(x, training=False), jit_compile=variant == "xla")

    def run():
        return {k: v.numpy() for k, v in forward(x).items()}

    out = run()
    count = int(out["num_detections"][0])
    return {
        "times": timings(run, runs, 0),
        "detections": count,
        "scores": out["scores"][0, :count].tolist(),
    }


def worker_keras_train(width, size, batch, steps, variant, weights):
    _keras_threads()
    import keras

    model = keras_detector(width, weights)
    model.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=0.9, global_clipnorm=CLIP_NORM),
        jit_compile=variant.removesuffix(EIGEN) == "xla",
    )
    boxes, labels = _boxes(size, batch)
    images, targets = _images(size, batch), {"boxes": boxes, "labels": labels}
    losses = []

    def step():
        losses.append(float(model.train_on_batch(images, targets, return_dict=True)["loss"]))

    return {"times": timings(step, steps, warmup=1), "loss": losses[-1]}


def worker_keras_parts(width, size, runs, weights, model_name="faster"):
    """Each inference stage of the BN-folded Keras detector, fed the previous one's outputs."""
    tf = _keras_threads()
    from hrnet_keras.detection import detections_from_rois

    model = keras_detector(width, weights, folded=True, model_name=model_name)
    x = tf.constant(_images(size, 1))
    backbone = tf.function(lambda x: model.backbone(x, training=False))
    first = tf.function(lambda x: model._first_stage(x, training=False))
    pool = tf.function(lambda levels, rois: model.roi_head.roi_align(levels, rois))
    head = model.roi_head

    @tf.function
    def fcs(pooled):
        flat = tf.reshape(pooled, (1, tf.shape(pooled)[1], -1))
        hidden = head.shared_fc2(head.shared_fc1(flat))
        return head.fc_cls(hidden), head.fc_reg(hidden)

    post = tf.function(
        lambda logits, deltas, stage: detections_from_rois(
            logits, deltas, stage["proposals"], stage["proposal_valid"], stage["image_shape"]
        )
    )
    stage = first(x)
    levels = stage["levels"][:4]
    pooled = pool(levels, stage["proposals"])
    logits, deltas = fcs(pooled)
    steps = {
        "backbone + neck": lambda: backbone(x)["P2"].numpy(),
        "RPN head + proposals": lambda: first(x)["proposals"].numpy(),
        "RoIAlign": lambda: pool(levels, stage["proposals"]).numpy(),
        "box head fcs": lambda: fcs(pooled)[0].numpy(),
        "post-processing (decode, NMS)": lambda: post(logits, deltas, stage)["boxes"].numpy(),
    }
    if model_name == "mask":
        # The mask branch on the padded detections (all `max_detections` rows: static shapes).
        boxes = post(logits, deltas, stage)["boxes"]
        mask = tf.function(lambda levels, boxes: model.mask_head((levels, boxes)))
        steps[MASK_STAGE] = lambda: mask(levels, boxes).numpy()
    times = {name: timings(fn, runs, 1) for name, fn in steps.items()}
    key = "RPN head + proposals"
    times[key] = [a - b for a, b in zip(times[key], times["backbone + neck"])]
    return {"parts": times}


# ---------------------------------------------------------------- PyTorch


def _torch_reference(width, model_name="faster"):
    sys.path.insert(0, HELPERS)
    import torch

    torch.set_num_threads(THREADS)
    if model_name == "mask":
        from torch_mask_rcnn_reference import build_mask_reference

        return torch, build_mask_reference(width, NUM_CLASSES, seed=SEED)
    from torch_faster_rcnn_reference import build_reference

    return torch, build_reference(width, NUM_CLASSES, seed=SEED)


def worker_torch(width, size, runs, variant, model_name="faster"):
    torch, model = _torch_reference(width, model_name)
    from torchvision.models.detection.image_list import ImageList

    model = model.eval().to(memory_format=torch.channels_last)
    x = torch.from_numpy(_images(size, 1)).permute(0, 3, 1, 2)
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        backbone = model.backbone
        if variant == "frozen":
            backbone = torch.jit.freeze(torch.jit.trace(backbone, x, strict=False))

        def run():
            images = ImageList(x, [tuple(size)])
            features = backbone(x)
            proposals, _ = model.rpn(images, features)
            detections, _ = model.roi_heads(features, proposals, images.image_sizes)
            return detections[0]

        out = run()
        times = timings(run, runs, 0)
    return {"times": times, "detections": len(out["scores"]), "scores": out["scores"].tolist()}


def worker_torch_train(width, size, batch, steps):
    torch, model = _torch_reference(width)
    from torchvision.models.detection.image_list import ImageList

    model = model.train().to(memory_format=torch.channels_last)
    for module in model.modules():  # norm_eval: the backbone's BN statistics stay frozen
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)
    x = torch.from_numpy(_images(size, batch)).permute(0, 3, 1, 2)
    x = x.contiguous(memory_format=torch.channels_last)
    boxes, labels = _boxes(size, batch)
    targets = [
        {"boxes": torch.from_numpy(b), "labels": torch.from_numpy(lab).long() + 1}
        for b, lab in zip(boxes, labels)
    ]
    losses = []

    def step():
        optimizer.zero_grad(set_to_none=True)
        images = ImageList(x, [tuple(size)] * batch)
        features = model.backbone(x)
        proposals, rpn_losses = model.rpn(images, features, targets)
        _, roi_losses = model.roi_heads(features, proposals, images.image_sizes, targets)
        loss = sum(rpn_losses.values()) + sum(roi_losses.values())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
        optimizer.step()
        losses.append(float(loss))

    return {"times": timings(step, steps, warmup=1), "loss": losses[-1]}


def worker_torch_parts(width, size, runs, model_name="faster"):
    torch, model = _torch_reference(width, model_name)
    from torchvision.models.detection.image_list import ImageList

    model = model.eval().to(memory_format=torch.channels_last)
    x = torch.from_numpy(_images(size, 1)).permute(0, 3, 1, 2)
    x = x.contiguous(memory_format=torch.channels_last)
    heads = model.roi_heads
    with torch.inference_mode():
        images = ImageList(x, [tuple(size)])
        features = model.backbone(x)
        proposals, _ = model.rpn(images, features)
        pooled = heads.box_roi_pool(features, proposals, images.image_sizes)
        hidden = heads.box_head(pooled)
        logits, deltas = heads.box_predictor(hidden)
        steps = {
            "backbone + neck": lambda: model.backbone(x),
            "RPN head + proposals": lambda: model.rpn(images, features),
            "RoIAlign": lambda: heads.box_roi_pool(features, proposals, images.image_sizes),
            "box head fcs": lambda: heads.box_predictor(heads.box_head(pooled)),
            "post-processing (decode, NMS)": lambda: heads.postprocess_detections(
                logits, deltas, proposals, images.image_sizes
            ),
        }
        if model_name == "mask":
            detections, _ = heads(features, proposals, images.image_sizes)
            boxes = [d["boxes"] for d in detections]

            def mask_branch():
                pooled = heads.mask_roi_pool(features, boxes, images.image_sizes)
                return heads.mask_predictor(heads.mask_head(pooled))

            steps[MASK_STAGE] = mask_branch
        times = {name: timings(fn, runs, 1) for name, fn in steps.items()}
    return {"parts": times}


# ---------------------------------------------------------------- multiply-adds


def worker_flops(width):
    _keras_threads()
    from detection_flops import detector_counts

    from hrnet_keras.models import faster_rcnn

    settings = {"get_flops": (1280, 800, 1000), "readme": (800, 1216, 512)}
    counts = {}
    for name, (height, image_width, rois) in settings.items():
        model = faster_rcnn(width=width, input_shape=(height, image_width, 3))
        counts[name] = detector_counts(model, rois)
    return {"counts": counts, "settings": settings}


# ---------------------------------------------------------------- the parent process

INFER_VARIANTS = [
    ("keras", "function", "Keras, tf.function (as built)"),
    ("keras", "folded", "Keras, tf.function, BN folded"),
    ("keras", "frozen", "Keras, BN folded, frozen to constants"),
    ("keras", "xla", "Keras, BN folded, XLA (jit_compile=True)"),
    ("keras", "frozen" + EIGEN, "Keras, BN folded, frozen, Eigen kernels (no oneDNN)"),
    ("torch", "eager", "PyTorch eager, channels_last, inference_mode"),
    ("torch", "frozen", "PyTorch, backbone+neck jit.freeze(trace), heads eager"),
]
TRAIN_VARIANTS = [
    ("keras-train", "fit", "Keras train_on_batch (fit's step)"),
    ("keras-train", "xla", "Keras train_on_batch, jit_compile=True"),
    ("torch-train", "eager", "PyTorch eager, channels_last"),
]
WORKERS = ["weights", "keras", "torch", "keras-train", "torch-train"]
WORKERS += ["keras-parts", "torch-parts", "flops"]
MASK_STAGE = "mask head (RoIAlign 14x14, convs)"


def _run_worker(
    kind, width, *, variant="", size=(0, 0), runs=0, batch=1, weights="", model="faster"
):
    command = [sys.executable, __file__, "--worker", kind, "--variant", variant, "--model", model]
    command += ["--width", str(width), "--size", "x".join(map(str, size))]
    command += ["--runs", str(runs), "--batch", str(batch), "--weights", weights]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": str(THREADS)}
    env["TF_ENABLE_ONEDNN_OPTS"] = "0" if variant.endswith(EIGEN) else "1"
    if kind.startswith("torch"):
        # OpenMP threads that spin while waiting lose their time slices to other processes
        # on a busy machine (several times slower); sleeping ones cost nothing when idle.
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    for attempt in range(RETRIES + 1):
        out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        # Killed by a signal (a shared machine short of memory): run it again.
        if out.returncode not in (-signal.SIGTERM, -signal.SIGKILL) or attempt == RETRIES:
            break
        print(f"({kind} {variant} worker killed by signal {-out.returncode}; again)", flush=True)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} {variant} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def _rounds(variants, rounds, **kwargs):
    """Runs every variant once a round, in turn; collects times, peak RSS and the rest."""
    results = {v: {"times": [], "rss": []} for v in variants}
    for _ in range(rounds):
        for variant in variants:
            out = _run_worker(variant[0], variant=variant[1], **kwargs)
            results[variant]["times"] += out.pop("times")
            results[variant]["rss"].append(out.pop("peak_rss_mb"))
            results[variant].update(out)
    return results


def _print_times(results, unit, scale, extra):
    print(f"  {'':<54} {'median ' + unit:>10} {'peak RSS MB':>11} {extra[0]:>11}")
    for variant, result in results.items():
        print(
            f"  {variant[2]:<54} {_median(result['times']) * scale:10.1f} "
            f"{max(result['rss']):11.0f} {extra[1](result):>11}"
        )


def _ratios(results):
    medians = {v[:2]: _median(r["times"]) for v, r in results.items()}
    theirs = {k: t for k, t in medians.items() if k[0].startswith("torch")}
    eager = next(t for k, t in theirs.items() if k[1] == "eager")
    for name, torch_s in (("PyTorch eager", eager), ("PyTorch's best", min(theirs.values()))):
        ratios = [f"{k[1]} {t / torch_s:.2f}" for k, t in medians.items() if k not in theirs]
        print(f"  ratio Keras/{name}: {', '.join(ratios)}")


def _inference(width, size, runs, rounds, weights, model="faster", variants=INFER_VARIANTS):
    results = _rounds(
        variants, rounds, width=width, size=size, runs=runs, weights=weights, model=model
    )
    print(
        f"{MODELS[model]} HRNetV2p-W{width}, inference at {size[0]}x{size[1]}, batch 1, float32, "
        f"{THREADS} threads ({rounds} rounds x {runs} runs)"
    )
    _print_times(results, "ms", 1000, ("detections", lambda r: r["detections"]))
    _ratios(results)
    keras_scores = next(r for v, r in results.items() if v[0] == "keras")["scores"]
    torch_scores = next(r for v, r in results.items() if v[0] == "torch")["scores"]
    common = min(len(keras_scores), len(torch_scores))
    gap = max((abs(a - b) for a, b in zip(keras_scores, torch_scores)), default=0.0)
    print(
        f"  same detections? Keras {len(keras_scores)}, PyTorch {len(torch_scores)}; largest "
        f"score difference over the best {common}: {gap:.2g}"
    )


def _training(width, size, batch, steps, rounds, weights, variants=TRAIN_VARIANTS):
    results = _rounds(
        variants, rounds, width=width, size=size, runs=steps, batch=batch, weights=weights
    )
    print(
        f"Faster R-CNN HRNetV2p-W{width}, one training step at {size[0]}x{size[1]}, batch "
        f"{batch}, float32, {THREADS} threads ({rounds} rounds x {steps} steps)"
    )
    _print_times(results, "s", 1, ("last loss", lambda r: f"{r['loss']:.4g}"))
    _ratios(results)


def _breakdown(width, size, runs, weights, model="faster"):
    keras = _run_worker("keras-parts", width, size=size, runs=runs, weights=weights, model=model)[
        "parts"
    ]
    torch = _run_worker("torch-parts", width, size=size, runs=runs, model=model)["parts"]
    print(
        f"{MODELS[model]} HRNetV2p-W{width}, inference stages at {size[0]}x{size[1]} "
        f"(median ms of {runs} runs)"
    )
    print(f"  {'':<32} {'Keras (BN folded)':>17} {'PyTorch eager':>13} {'ratio':>6}")
    for name, times in keras.items():
        ours, theirs = _median(times) * 1000, _median(torch[name]) * 1000
        print(f"  {name:<32} {ours:17.1f} {theirs:13.1f} {ours / theirs:6.2f}")


def _flops(width):
    out = _run_worker("flops", width)
    published = PUBLISHED_GFLOPS.get(width)
    print(f"Multiply-adds of Faster R-CNN HRNetV2p-W{width} (Keras graph), in 1e9")
    parts = {"hrnet": "HRNet", "hrfpn": "HRFPN", "rpn_head": "RPN", "box_fcs": "box fcs"}
    parts["box_predictors"] = "cls+reg"
    header = "".join(f"{p:>8}" for p in parts.values())
    print(f"  {'':<38}{header}{'sum':>8}{'/2^30':>8}{'+mmcv':>8}{'RoIAlign':>9}")
    for name, label in (("get_flops", "mmdet get_flops"), ("readme", "README setting")):
        counts, (height, image_width, rois) = out["counts"][name], out["settings"][name]
        macs = sum(counts[p][0] for p in parts)
        extra = sum(counts[p][1] for p in parts)
        row = "".join(f"{counts[p][0] / 1e9:8.1f}" for p in parts)
        print(
            f"  {label + f' {height}x{image_width}, {rois} RoIs':<38}{row}{macs / 1e9:8.1f}"
            f"{macs / 2**30:8.1f}{(macs + extra) / 1e9:8.1f}"
            f"{counts['roi_align'][0] / 1e9:9.1f}"
        )
    if published:
        print(f"  published (HRNet detection README): {published} GFLOPs")
    print(
        "  sum: convolutions and linear layers (mmcv's FLOPs are multiply-adds); +mmcv: with "
        "the BN, ReLU, upsampling and conv-bias elements mmcv's hooks add, in 1e9; RoIAlign: "
        "our separable RoIAlign's matrix products, which mmcv does not count."
    )


def _worker_main(args):
    size = tuple(int(v) for v in args.size.split("x")) if args.size else None
    width = _width(args.width)
    if args.worker == "weights":
        result = worker_weights(width, args.weights, args.model)
    elif args.worker == "keras":
        result = worker_keras(width, size, args.runs, args.variant, args.weights, args.model)
    elif args.worker == "torch":
        result = worker_torch(width, size, args.runs, args.variant, args.model)
    elif args.worker == "keras-train":
        result = worker_keras_train(width, size, args.batch, args.runs, args.variant, args.weights)
    elif args.worker == "torch-train":
        result = worker_torch_train(width, size, args.batch, args.runs)
    elif args.worker == "keras-parts":
        result = worker_keras_parts(width, size, args.runs, args.weights, args.model)
    elif args.worker == "torch-parts":
        result = worker_torch_parts(width, size, args.runs, args.model)
    else:
        result = worker_flops(width)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _size_arg(text):
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH. Received: {text!r}") from None
    if height % 32 or width % 32 or height < 64 or width < 64:
        raise argparse.ArgumentTypeError(
            f"sides must be multiples of 32, at least 64. Received: {text!r}"
        )
    return height, width


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="18", help="comma-separated HRNet widths")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--runs", type=int, default=3, help="timed inferences a worker")
    parser.add_argument("--steps", type=int, default=2, help="timed training steps a worker")
    parser.add_argument("--train-size", type=_size_arg, default=TRAIN_SIZE, help="HxW")
    parser.add_argument("--train-batch", type=int, default=1)
    parser.add_argument(
        "--tasks", default="infer,train,flops", help="any of infer, train, flops (comma-separated)"
    )
    parser.add_argument("--breakdown", action="store_true", help="time each inference stage")
    parser.add_argument(
        "--models",
        default="faster",
        help="any of faster, mask (comma-separated); mask: inference and --breakdown only",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_INFER[0]}x{QUICK_INFER[1]} inference, "
        f"{QUICK_TRAIN[0]}x{QUICK_TRAIN[1]} training, 1 round, 1 run",
    )
    parser.add_argument(
        "--infer-variants",
        default=",".join(f"{kind}:{variant}" for kind, variant, _ in INFER_VARIANTS),
        help="the inference variants to time (comma-separated KIND:VARIANT; default all); "
        "they must include keras:function or another Keras one and torch:eager",
    )
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--skip-xla",
        action="store_true",
        help="leave out the training step under XLA (its CPU compilation takes many minutes)",
    )
    parser.add_argument("--variant", default="", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="faster", choices=MODELS, help=argparse.SUPPRESS)
    parser.add_argument("--width", default="18", help=argparse.SUPPRESS)
    parser.add_argument("--size", default="", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--weights", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker_main(args)
        return

    tasks = set(args.tasks.split(","))
    if not tasks <= {"infer", "train", "flops"}:
        parser.error(f"--tasks takes infer, train, flops. Received: {args.tasks!r}")
    models = args.models.split(",")
    if not set(models) <= set(MODELS):
        parser.error(f"--models takes faster, mask. Received: {args.models!r}")
    chosen = args.infer_variants.split(",")
    infer_variants = [v for v in INFER_VARIANTS if f"{v[0]}:{v[1]}" in chosen]
    kinds = {v[0] for v in infer_variants}
    if (
        len(infer_variants) != len(set(chosen))
        or ("torch", "eager") not in {v[:2] for v in infer_variants}
        or "keras" not in kinds
    ):
        names = ", ".join(f"{kind}:{variant}" for kind, variant, _ in INFER_VARIANTS)
        parser.error(
            f"--infer-variants takes some of {names}, with torch:eager and a Keras one. "
            f"Received: {args.infer_variants!r}"
        )
    infer_size, train_size = INFER_SIZE, args.train_size
    rounds, runs, steps = args.rounds, args.runs, args.steps
    if args.quick:
        infer_size, train_size, rounds, runs, steps = QUICK_INFER, QUICK_TRAIN, 1, 1, 1
    if "faster" not in models and tasks & {"train", "flops"}:
        print("(the training step and the multiply-adds are Faster R-CNN's: add --models faster)")
    for width in map(_width, args.widths.split(",")):
        for model in models:
            with tempfile.TemporaryDirectory() as folder:
                weights = os.path.join(folder, "reference.safetensors")
                if tasks & {"infer", "train"} or args.breakdown:
                    _run_worker("weights", width, weights=weights, model=model)
                if "infer" in tasks:
                    _inference(width, infer_size, runs, rounds, weights, model, infer_variants)
                    print()
                if args.breakdown:
                    _breakdown(width, infer_size, runs, weights, model)
                    print()
                if "train" in tasks and model == "faster":
                    variants = [v for v in TRAIN_VARIANTS if not (args.skip_xla and v[1] == "xla")]
                    _training(width, train_size, args.train_batch, steps, rounds, weights, variants)
                    print()
        if "flops" in tasks and "faster" in models:
            _flops(width)
            print()


if __name__ == "__main__":
    main()
