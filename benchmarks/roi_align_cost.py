"""Time and memory of `roi_align` / `multilevel_roi_align` at detector sizes.

Defaults are one R-CNN training step of mmdet's Faster R-CNN: 2 images of 800 x 1216, 512
RoIs each, 256 channels, 7x7 bins. `--single-level` pools every RoI from P2 (200 x 304) as
plain `roi_align`; otherwise RoIs go to P2..P5 by their size. RoI sizes are log-uniform in
[16, 800] pixels with aspect ratios log-uniform in [1/4, 4] (`--max-aspect`), clipped to the
image. Prints the number of RoIs past the window (`--oversize auto` pools them again
exactly, except under `--jit`), the forward and forward+backward (gradient w.r.t. the
features) times, the bytes of the gathered windows, the peak memory (GPU: TensorFlow's
allocator peak; CPU: the process' peak RSS), and torchvision's CPU `roi_align` time on the
same inputs when it is installed.

    python benchmarks/roi_align_cost.py --jit
    python benchmarks/roi_align_cost.py --single-level --window 32 64
    python benchmarks/roi_align_cost.py --max-aspect 8 --oversize approximate
"""

import argparse
import json
import resource
import statistics

try:  # torchvision must be imported before TensorFlow
    import torch
    import torchvision
except ImportError:
    torch = None

import numpy as np
import tensorflow as tf
from timing import timings

from hrnet_keras.detection.roi_align import level_of_boxes, multilevel_roi_align, roi_align
from hrnet_keras.detection.roi_align_oversize import OVERSIZE_MODES

STRIDES = (4, 8, 16, 32)


def detector_boxes(rng, batch, rois, height, width, max_aspect=4.0):
    size = np.exp(rng.uniform(np.log(16), np.log(800), (batch, rois)))
    aspect = np.exp(rng.uniform(-np.log(max_aspect), np.log(max_aspect), (batch, rois)))
    w, h = size * np.sqrt(aspect), size / np.sqrt(aspect)
    x1 = rng.uniform(0, width, (batch, rois)) - w / 2
    y1 = rng.uniform(0, height, (batch, rois)) - h / 2
    boxes = np.stack([x1, y1, x1 + w, y1 + h], -1)
    return np.clip(boxes, 0, [width, height, width, height]).astype("float32")


def count_oversize(boxes, levels, window, height, width):
    """RoIs whose cells (on their level, from the first one read to the one after the
    last sample's, within the map) do not fit the window turned along their long side."""
    stride = np.asarray(STRIDES, "float32")[levels][..., None]
    size = np.array([width, height], "float32") // stride
    low, high = boxes[..., :2] / stride - 0.5, boxes[..., 2:] / stride - 0.5
    first = np.floor(np.maximum(low, 0))
    last = np.minimum(np.floor(np.clip(high, 0, size)) + 1, size - 1)
    cells = last - first + 1
    short, long = window
    return int(((cells.min(-1) > short) | (cells.max(-1) > long)).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--rois", type=int, default=512)
    parser.add_argument("--channels", type=int, default=256)
    parser.add_argument("--image", type=int, nargs=2, default=(800, 1216))
    parser.add_argument("--window", type=int, nargs=2, default=(32, 64))
    parser.add_argument("--single-level", action="store_true")
    parser.add_argument("--jit", action="store_true", help="compile with XLA")
    parser.add_argument("--oversize", choices=OVERSIZE_MODES, default="auto")
    parser.add_argument("--max-aspect", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    height, width = args.image
    shapes = [(args.batch, height // s, width // s, args.channels) for s in STRIDES]
    if args.single_level:
        shapes = shapes[:1]
    features = [tf.constant(rng.standard_normal(s).astype("float32")) for s in shapes]
    boxes = tf.constant(detector_boxes(rng, args.batch, args.rois, height, width, args.max_aspect))
    window = tuple(args.window)
    oversize = args.oversize

    def pool(maps):
        if args.single_level:
            return roi_align(maps[0], boxes, 7, 1 / STRIDES[0], window=window, oversize=oversize)
        return multilevel_roi_align(maps, boxes, 7, window=window, oversize=oversize)

    @tf.function(jit_compile=args.jit)
    def forward(maps):
        return tf.reduce_sum(pool(maps))

    @tf.function(jit_compile=args.jit)
    def backward(maps):
        with tf.GradientTape() as tape:
            tape.watch(maps)
            loss = tf.reduce_sum(pool(maps) ** 2)
        return tape.gradient(loss, maps)

    report = {
        "batch": args.batch,
        "rois": args.rois,
        "channels": args.channels,
        "maps": [s[1:3] for s in shapes],
        "window": window,
        "jit": args.jit,
        "oversize": oversize,
        "max_aspect": args.max_aspect,
        "device": "GPU" if tf.config.list_physical_devices("GPU") else "CPU",
        "gathered_window_GiB": args.batch
        * args.rois
        * args.channels
        * window[0]
        * window[1]
        * 4
        / 2**30,
    }
    levels = np.zeros(boxes.shape[:2], "int32")
    if not args.single_level:
        levels = np.asarray(level_of_boxes(boxes))
        report["rois_per_level"] = np.bincount(levels.ravel(), minlength=4).tolist()
    report["rois_past_window"] = count_oversize(boxes.numpy(), levels, window, height, width)

    def run(fn):
        result = fn(features)
        np.asarray(result[0] if isinstance(result, list) else result)

    for name, fn in (("forward", forward), ("forward_backward", backward)):
        report[f"{name}_s"] = round(
            statistics.median(timings(lambda f=fn: run(f), args.runs, 1)), 4
        )
    if report["device"] == "GPU":
        report["peak_GiB"] = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**30
    else:
        report["peak_rss_GiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    if torch is not None and args.single_level:
        x = torch.from_numpy(features[0].numpy()).permute(0, 3, 1, 2).contiguous()
        index = np.repeat(np.arange(args.batch, dtype="float32"), args.rois)[:, None]
        rois = torch.from_numpy(np.concatenate([index, boxes.numpy().reshape(-1, 4)], 1))
        with torch.no_grad():
            times = timings(
                lambda: torchvision.ops.roi_align(x, rois, 7, 1 / STRIDES[0], 0, True), args.runs, 1
            )
        report["torchvision_cpu_forward_s"] = round(statistics.median(times), 4)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
