"""`hrnet-keras export RECIPE --weights FILE --out PATH`: a SavedModel or a TFLite file.

The exported graph is the recipe's task's `serving_model`: for facial landmarks, a uint8
RGB 256x256 face crop in and landmark coordinates in crop pixels out (decoding inside).
`--quantize int8` calibrates on crops of the recipe's own training pipeline (`--data-dir`).
"""

from hrnet_keras.cli.recipe_args import add_recipe_arguments, fail, load_recipe_from_args

FORMATS = ("savedmodel", "tflite")
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")


def add_arguments(parser):
    add_recipe_arguments(parser)
    parser.add_argument("--weights", required=True, help="trained weights (.weights.h5 or .keras)")
    parser.add_argument("--out", required=True, help="the SavedModel folder or .tflite file")
    parser.add_argument("--format", choices=FORMATS, default="tflite")
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
    from hrnet_keras.training.trainer import load_trained_model

    if args.format == "savedmodel" and (args.quantize != "none" or args.heatmaps):
        return fail("export", "--quantize and --heatmaps apply to --format tflite only")
    if args.quantize == "int8" and args.data_dir is None:
        return fail("export", "int8 calibrates on the recipe's data: pass --data-dir")
    try:
        recipe = load_recipe_from_args(args)
        model, task = load_trained_model(recipe, args.weights)
    except (FileNotFoundError, ValueError, TypeError) as error:
        return fail("export", error)
    if args.format == "savedmodel":
        from hrnet_keras.export.savedmodel import export_savedmodel

        export_savedmodel(model, args.out, task=task)
    else:
        from hrnet_keras.export.tflite import export_tflite

        data = None
        if args.quantize == "int8":
            data = task.calibration_data(args.data_dir, args.calibration_steps)
        export_tflite(
            model,
            args.out,
            task=task,
            quantize=args.quantize,
            representative_data=data,
            heatmaps=args.heatmaps,
        )
    print(args.out)
    return 0
