"""`hrnet-keras models`: every named model of `hrnet_keras.models.presets` with its parameters
and GFLOPs."""

import numpy as np

from hrnet_keras.errors import UsageError


def add_arguments(parser):
    parser.add_argument(
        "--only", default="", help="substring of variant names to keep, for example 'w18'"
    )
    parser.add_argument(
        "--no-flops", action="store_true", help="skip tracing (parameters only, much faster)"
    )


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def _static_roi_align(model):
    """Makes a detector's RoIAlign layers count their static pass.

    The exact pass over RoIs past RoIAlign's window has data-dependent shapes, which a count
    from the graph cannot read; mmcv counts no RoIAlign at all.
    """
    from hrnet_keras.detection.roi_align import MultiLevelRoIAlign

    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, MultiLevelRoIAlign):
            layer.oversize = "approximate"


def run(args):
    from hrnet_keras.models.complexity import PUBLISHED_GFLOPS_DIVISOR, multiply_adds
    from hrnet_keras.models.presets import PRESETS

    variants = [v for v in PRESETS if args.only in v.name]
    if not variants:
        raise UsageError(f"No variant name contains {args.only!r}. Received: only={args.only!r}")
    header = (
        f"{'variant':<32} {'input':>9} {'params':>12} {'published':>12} "
        f"{'GMACs':>8} {'published':>9} {'GFLOPs*':>8} {'published':>9}  note"
    )
    print(header)
    print("-" * len(header))
    for variant in variants:
        model = variant.build(input_shape=variant.input_shape)
        params = int(sum(np.prod(w.shape) for w in model.trainable_weights))
        macs = None
        if not args.no_flops:
            _static_roi_align(model)
            macs = multiply_adds(model, variant.input_shape)
        size = "x".join(str(s) for s in variant.input_shape[:2])
        print(
            f"{variant.name:<32} {size:>9} {params:>12,} {_fmt(variant.params, ',d'):>12} "
            f"{_fmt(macs and macs / 1e9, '.2f'):>8} {_fmt(variant.gmacs, '.2f'):>9} "
            f"{_fmt(macs and macs / PUBLISHED_GFLOPS_DIVISOR, '.2f'):>8} "
            f"{_fmt(variant.gflops, '.2f'):>9}  {variant.note}",
            flush=True,
        )
    print(
        "\nparams: trainable parameters (PyTorch's count; BN moving statistics excluded). "
        "GMACs: multiply-adds / 1e9,\nmeasured from the TensorFlow graph. GFLOPs*: multiply-adds "
        "/ 2^30, the convention of the HRNet papers' tables."
    )
    return 0
