"""`hrnet-keras demo [--out DIR]`: the whole library in a few minutes, with no download.

Writes a small synthetic VOC-layout sample (shapes on striped backgrounds), trains a small
HRNetV2 (W18-small-v1) on it with the built-in demo recipe, evaluates it (mIoU on the val
split), writes prediction overlays, exports it as a TF Serving model folder (with the
server's `models.config`), and prints where each went and the command that serves it.
"""

import json
import os

from hrnet_keras.errors import UsageError


def add_arguments(parser):
    parser.add_argument("--out", default="hrnet_keras_demo", help="folder for everything")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override a field of the demo recipe, e.g. runtime.epochs=2 (repeatable)",
    )
    parser.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=1, help="0 silent, 1 bar, 2 a line"
    )


def run(args):
    from hrnet_keras.cli import CommandFailed
    from hrnet_keras.export import export_model_version
    from hrnet_keras.export.serving_config import docker_command, write_serving_config
    from hrnet_keras.export.warmup import serving_protos_installed
    from hrnet_keras.segmentation.sample import demo_recipe, write_sample_dataset
    from hrnet_keras.training.recipe import apply_overrides
    from hrnet_keras.training.trainer import train

    out = os.path.abspath(args.out)
    try:
        recipe = apply_overrides(demo_recipe(), args.overrides)
    except ValueError as error:  # an unknown field or a value of the wrong type
        raise UsageError(str(error)) from error
    data_dir = write_sample_dataset(os.path.join(out, "data"))
    print(f"Sample dataset: {data_dir}")

    model_dir = os.path.join(out, "run")
    result = train(recipe, data_dir, model_dir, verbose=args.verbose)
    if result.nan_step is not None:
        raise CommandFailed(f"training diverged at step {result.nan_step}; see {model_dir}")
    task, model = result.task, result.model

    metrics = task.evaluate(model, data_dir)
    metrics_path = os.path.join(out, "metrics.json")
    with open(metrics_path, "w") as f:
        json.dump(metrics, f, indent=2, default=float)

    val_images = list(task.files(data_dir, recipe.task.eval_split).images)[:4]
    pictures = task.predict(model, val_images, os.path.join(out, "predictions"))
    serving = os.path.join(out, "serving")
    version = export_model_version(model, os.path.join(serving, "segmenter"), task=task)
    config = write_serving_config(serving) if serving_protos_installed() else None

    print()
    print(f"val mIoU {metrics['mIoU']:.3f}, pixel accuracy {metrics['pixel_accuracy']:.3f}")
    print(f"dataset:       {data_dir}")
    print(f"run folder:    {model_dir} (checkpoints/, best.weights.h5, last.weights.h5)")
    print(f"metrics:       {metrics_path}")
    print(f"predictions:   {os.path.dirname(pictures[0])} ({len(pictures)} pictures)")
    print(f"SavedModel:    {version} (serving_bytes: JPEG/PNG files -> class maps)")
    print()
    if config is None:
        print(
            "For TF Serving's models.config: pip install tensorflow-serving-api, then "
            f"hrnet-keras serving-config {serving}"
        )
    else:
        print(f"TF Serving folder, ready to serve: {serving} ({config})")
    print(docker_command(serving))
    return 0
