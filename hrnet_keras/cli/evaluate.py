"""`hrnet-keras evaluate RECIPE --data-dir DIR --weights FILE [--set key=value ...]`.

Runs the task's evaluation protocol; the last line printed is one JSON object of metrics.
"""

import json

from hrnet_keras.cli.recipe_args import add_recipe_arguments, fail, load_recipe_from_args


def add_arguments(parser):
    add_recipe_arguments(parser, recipe_option=True)
    parser.add_argument(
        "--data-dir", "--data", dest="data_dir", required=True, help="the dataset root"
    )
    parser.add_argument("--weights", required=True, help=".weights.h5, .keras or .pth file")


def run(args):
    try:
        recipe = load_recipe_from_args(args)
    except (OSError, ValueError, TypeError) as error:
        return fail("evaluate", error)
    from hrnet_keras.training.trainer import evaluate

    try:
        metrics = evaluate(recipe, args.data_dir, args.weights)
    except FileNotFoundError as error:
        return fail("evaluate", error)
    print(json.dumps(metrics, default=float))
    return 0
