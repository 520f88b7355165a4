"""`hrnet-keras export RECIPE --weights FILE --out PATH`: a SavedModel or a TFLite file
(or `hrnet-keras export --model-dir RUN --out PATH` for a run folder `train` wrote).

`--format savedmodel --out DIR/NAME` writes a TF Serving model folder's next version,
`DIR/NAME/<version>/` (one more than the highest there, or `--version N`; an existing
version is an error, never overwritten): a `serving_default` signature on uint8 images, a
`serving_bytes` one on encoded JPEG / PNG files (docs/export.md lists each task's inputs and
outputs), warm-up requests and the label map. It prints the version's folder;
`hrnet-keras serving-config DIR` then writes the server's `models.config`.

The exported graph is the recipe's task's `serving_model`: for facial landmarks, a uint8
RGB 256x256 face crop in and landmark coordinates in crop pixels out (decoding inside); for
detection (SavedModel only), photos of any size in, boxes in their pixels out.
`--quantize int8` calibrates on crops of the recipe's own training pipeline (`--data-dir`,
default with `--model-dir`: the data the run trained on); tasks without calibration data
cannot export int8.
"""

from hrnet_keras.cli.recipe_args import (
    add_recipe_arguments,
    data_dir_from_args,
    recipe_from_args,
    weights_from_args,
)
from hrnet_keras.errors import UsageError

FORMATS = ("savedmodel", "tflite")
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")


def add_arguments(parser):
    add_recipe_arguments(parser, recipe_option=True, model_dir=True)
    parser.add_argument(
        "--weights",
        help="trained weights, .weights.h5 or .keras (default with --model-dir: "
        "RUN/best.weights.h5, else RUN/last.weights.h5)",
    )
    parser.add_argument("--out", required=True, help="the SavedModel folder or .tflite file")
    parser.add_argument("--format", choices=FORMATS, default="tflite")
    parser.add_argument(
        "--version",
        type=int,
        default=None,
        help="SavedModel: the version folder to write under --out (default: the next free one)",
    )
    parser.add_argument(
        "--quantize",
        choices=QUANTIZATIONS,
        default="none",
        help="TFLite quantisation; int8 calibrates on --data-dir",
    )
    parser.add_argument(
        "--heatmaps", action="store_true", help="TFLite: also output the heatmaps (landmarks)"
    )
    parser.add_argument("--data-dir", default=None, help="the recipe's dataset (int8 calibration)")
    parser.add_argument(
        "--calibration-steps", type=int, default=200, help="crops used for int8 calibration"
    )


def run(args):
    if args.version is not None and (args.format != "savedmodel" or args.version < 1):
        raise UsageError(
            "--version is a positive version number of a --format savedmodel export. "
            f"Received: format={args.format!r}, version={args.version}"
        )
    if args.format == "savedmodel" and (args.quantize != "none" or args.heatmaps):
        raise UsageError(
            "--quantize and --heatmaps apply to --format tflite only. "
            f"Received: format={args.format!r}, quantize={args.quantize!r}, "
            f"heatmaps={args.heatmaps}"
        )
    recipe = recipe_from_args(args)
    weights = weights_from_args(args)
    task = recipe.build_task()
    if args.format not in task.export_formats:
        raise UsageError(
            f"{task.name} exports to {' and '.join(task.export_formats)} only (--format). "
            f"Received: format={args.format!r}"
        )
    data_dir = None
    if args.quantize == "int8":
        task.require("calibration_data")
        data_dir = data_dir_from_args(args, required=False)
        if data_dir is None:
            raise UsageError(
                "int8 calibrates on the recipe's data: pass --data-dir. Received: data_dir=None"
            )
    if args.format == "savedmodel":
        _check_version_is_free(args.out, args.version)
    from hrnet_keras.training.trainer import load_trained_model

    model, task = load_trained_model(recipe, weights, task=task)
    if args.format == "savedmodel":
        from hrnet_keras.export.savedmodel import export_model_version

        out = export_model_version(model, args.out, task=task, version=args.version)
    else:
        from hrnet_keras.export.tflite import export_tflite

        data = None
        if data_dir is not None:
            data = task.calibration_data(data_dir, args.calibration_steps)
        out = export_tflite(
            model,
            args.out,
            task=task,
            quantize=args.quantize,
            representative_data=data,
            heatmaps=args.heatmaps,
        )
    print(out)
    return 0


def _check_version_is_free(model_dir, version):
    """A usage error before the model loads: `--out` is a file, or `--version` exists."""
    import os

    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise UsageError(
            "--out of a SavedModel is a TF Serving model folder, DIR/NAME; a file is there. "
            f"Received: out={model_dir!r}"
        )
    if version is not None and os.path.exists(os.path.join(model_dir, str(version))):
        raise UsageError(
            f"Version {version} exists in {model_dir} and is not overwritten: pass another "
            f"--version, or none for the next free one. Received: version={version}"
        )
