"""Inference latency of HRNetV2 in Keras against timm's HRNet in PyTorch, on this machine.

Each measurement runs in its own subprocess (so that peak memory is that framework's alone),
with 2 threads, batch 1, float32; Keras and PyTorch subprocesses alternate for several rounds
and the medians are compared. Both sides compute the same network: the HRNet-W backbone with
nearest-neighbour fusion upsampling (timm's) and the HRNetV2 head-less representation
(branches bilinearly upsampled and concatenated; added to timm's `features_only` output in
torch). Achieved GFLOP/s are also compared with the machine's float32 matmul peak.

The Keras model runs in four forms: as built, BN folded, frozen (`export.inference_function`)
under TensorFlow (as built and frozen also with TensorFlow's oneDNN kernels,
`TF_ENABLE_ONEDNN_OPTS=1`, which TensorFlow leaves off on CPUs without AVX-512 VNNI/BF16 or
AMX), and exported to a float32 `.tflite` file (BN folded) run by LiteRT with XNNPACK; the
file is converted once per case, and timed in a process that does not import TensorFlow, so
its peak RSS is the runtime's own.

    python benchmarks/backbone_speed.py            # both published settings
    python benchmarks/backbone_speed.py --quick    # W18 at 256x256 only, fewer runs
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

from timing import timings

CASES = [(18, 256, 256), (48, 512, 1024)]
THREADS = 2


WARMUP = 3
# Keras variants with this suffix run with TensorFlow's oneDNN kernels
# (TF_ENABLE_ONEDNN_OPTS=1); the others with its default Eigen ones (=0).
ONEDNN = "-onednn"


def keras_model(width, height, image_width):
    """The case's Keras model: HRNetV2 with timm's nearest-neighbour fusion upsampling."""
    import hrnet_keras

    return hrnet_keras.models.hrnetv2(
        width=width, input_shape=(height, image_width, 3), upsample="nearest"
    )


def convert_keras(width, height, image_width, path):
    """Writes the BN-folded float32 `.tflite` file of the case's model to `path`."""
    import hrnet_keras
    from hrnet_keras.export.tflite import export_tflite

    model = keras_model(width, height, image_width)
    export_tflite(hrnet_keras.models.fold_batch_norm(model), path)
    return {"macs": hrnet_keras.models.multiply_adds(model, (height, image_width, 3))}


def worker_litert(height, image_width, runs, path):
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # As hrnet_keras.export.load_interpreter, without importing hrnet_keras (and TensorFlow).
    interpreter = Interpreter(
        model_path=path,
        num_threads=THREADS,
        experimental_op_resolver_type=OpResolverType.BUILTIN,  # XNNPACK
    )
    interpreter.allocate_tensors()
    (image,) = interpreter.get_input_details()
    (output,) = interpreter.get_output_details()
    x = np.random.default_rng(0).random((1, height, image_width, 3), "float32")

    def forward():
        interpreter.set_tensor(image["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(output["index"])

    return {"times": timings(forward, runs, WARMUP)}


def worker_keras(width, height, image_width, runs, variant, inter_op):
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    import hrnet_keras

    model = keras_model(width, height, image_width)
    variant = variant.removesuffix(ONEDNN)
    if variant == "frozen":
        from hrnet_keras.export import inference_function

        forward = inference_function(model)
    else:
        if variant == "folded":
            model = hrnet_keras.models.fold_batch_norm(model)
        forward = tf.function(lambda x: model(x, training=False))
    x = tf.constant(np.random.default_rng(0).random((1, height, image_width, 3), "float32"))
    times = timings(lambda: forward(x).numpy(), runs, WARMUP)
    return {"times": times}


def worker_torch(width, height, image_width, runs, frozen):
    import timm
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(THREADS)
    backbone = timm.create_model(
        f"hrnet_w{width}", features_only=True, feature_location="", pretrained=False
    )

    class HRNetV2(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = backbone

        def forward(self, x):
            _, *branches = self.backbone(x)
            size = branches[0].shape[-2:]
            upsampled = [F.interpolate(b, size=size, mode="bilinear") for b in branches[1:]]
            return torch.cat([branches[0], *upsampled], dim=1)

    model = HRNetV2().eval().to(memory_format=torch.channels_last)
    x = torch.rand(1, 3, height, image_width).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        if frozen:
            # TorchScript freezing folds batch norm into the convolutions.
            model = torch.jit.freeze(torch.jit.trace(model, x))
        times = timings(lambda: model(x), runs, WARMUP)
    return {"times": times}


def matmul_peak_gflops():
    """float32 matmul throughput of TensorFlow with 2 threads (the machine's practical peak)."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    a = tf.random.uniform((2048, 2048))
    matmul = tf.function(lambda: tf.linalg.matmul(a, a))
    times = timings(lambda: matmul().numpy(), 10, WARMUP)
    return 2 * 2048**3 / min(times) / 1e9


def _run_worker(kind, case, runs, variant, inter_op=1, tflite=""):
    command = [sys.executable, __file__, "--worker", kind, "--variant", variant]
    command += ["--tflite", tflite]
    command += ["--inter-op", str(inter_op)]
    command += ["--case", ",".join(map(str, case)), "--runs", str(runs)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": str(THREADS)}
    env["TF_ENABLE_ONEDNN_OPTS"] = "1" if variant.endswith(ONEDNN) else "0"
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--widths", default="18,48", help="which cases, by width: 18, 48")
    parser.add_argument("--worker", choices=["keras", "torch", "peak", "convert", "litert"])
    parser.add_argument("--tflite", default="", help="(workers) the case's .tflite file")
    parser.add_argument("--variant", default="")
    parser.add_argument("--case", default="")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--inter-op",
        type=int,
        default=1,
        help="TensorFlow inter-op threads (1: one op at a time, as PyTorch runs; 2: branches "
        "may run side by side, each op still on the 2 intra-op threads)",
    )
    args = parser.parse_args()

    if args.worker:
        if args.worker == "peak":
            result = {"gflops": matmul_peak_gflops()}
        else:
            case = tuple(int(v) for v in args.case.split(","))
            if args.worker == "keras":
                result = worker_keras(*case, args.runs, args.variant, args.inter_op)
            elif args.worker == "convert":
                result = convert_keras(*case, args.tflite)
            elif args.worker == "litert":
                result = worker_litert(*case[1:], args.runs, args.tflite)
            else:
                result = worker_torch(*case, args.runs, frozen=args.variant == "frozen")
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    cases = [c for c in CASES if str(c[0]) in args.widths.split(",")]
    cases = cases[:1] if args.quick else cases
    runs = {(18, 256, 256): 5 if args.quick else 20, (48, 512, 1024): 5}
    peak = _run_worker("peak", (0,), 0, "")["gflops"]
    print(f"float32 matmul peak, {THREADS} threads (TensorFlow, 2048^3): {peak:.0f} GFLOP/s\n")
    variants = [
        ("keras", "model", "Keras hrnetv2 (as built)"),
        ("keras", "folded", "Keras hrnetv2, BN folded (fold_batch_norm)"),
        ("keras", "frozen", "Keras hrnetv2, export.inference_function"),
        ("keras", "model" + ONEDNN, "Keras hrnetv2 (as built), oneDNN"),
        ("keras", "frozen" + ONEDNN, "Keras hrnetv2, export.inference_function, oneDNN"),
        ("litert", "litert", "Keras hrnetv2 as .tflite, LiteRT + XNNPACK"),
        ("torch", "eager", "PyTorch timm, eager, channels_last"),
        ("torch", "frozen", "PyTorch timm, jit.freeze (BN folded), channels_last"),
    ]
    for case in cases:
        results = {v: {"times": [], "rss": []} for v in variants}
        with tempfile.TemporaryDirectory() as folder:
            tflite = os.path.join(folder, "hrnetv2.tflite")
            macs = _run_worker("convert", case, 0, "", tflite=tflite)["macs"]
            for _ in range(args.rounds):
                for variant in variants:
                    out = _run_worker(
                        variant[0], case, runs[case], variant[1], args.inter_op, tflite=tflite
                    )
                    results[variant]["times"] += out["times"]
                    results[variant]["rss"].append(out["peak_rss_mb"])
        width, height, image_width = case
        print(
            f"HRNetV2-W{width} at {height}x{image_width}, batch 1, float32, {THREADS} threads "
            f"(TensorFlow inter-op threads: {args.inter_op})"
        )
        print(f"  {'':<52} {'median ms':>9} {'GFLOP/s':>8} {'of peak':>7} {'peak RSS MB':>11}")
        medians = {}
        for variant in variants:
            median = _median(results[variant]["times"])
            medians[variant[:2]] = median
            rate = 2 * macs / median / 1e9
            print(
                f"  {variant[2]:<52} {median * 1000:9.1f} {rate:8.1f} {rate / peak:7.0%} "
                f"{max(results[variant]['rss']):11.0f}"
            )
        eager = medians[("torch", "eager")]
        best_torch = min(eager, medians[("torch", "frozen")])
        ours = [key for key in medians if key[0] != "torch"]
        for name, torch_ms in (("PyTorch eager", eager), ("PyTorch's best", best_torch)):
            ratios = ", ".join(f"{key[1]} {medians[key] / torch_ms:.2f}" for key in ours)
            print(f"  ratio Keras/{name}: {ratios}")
        print()


if __name__ == "__main__":
    main()
