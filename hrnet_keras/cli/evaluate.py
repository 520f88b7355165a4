"""`hrnet-keras evaluate RECIPE --data-dir DIR --weights FILE [--set key=value ...]`, or
`hrnet-keras evaluate --model-dir RUN` for a run folder `train` wrote.

Runs the task's evaluation protocol; the last line printed is one JSON object of metrics.
With `--model-dir RUN`, the recipe is RUN/recipe.json, the weights RUN/best.weights.h5
(RUN/last.weights.h5 if there is no best) and the data the folder the run trained on; RECIPE,
`--weights` and `--data-dir` override them.
"""

import json

from hrnet_keras.cli.recipe_args import (
    add_recipe_arguments,
    data_dir_from_args,
    recipe_from_args,
    weights_from_args,
)


def add_arguments(parser):
    add_recipe_arguments(parser, recipe_option=True, model_dir=True)
    parser.add_argument(
        "--data-dir",
        "--data",
        dest="data_dir",
        help="the dataset root (default with --model-dir: the one the run trained on)",
    )
    parser.add_argument(
        "--weights",
        help=".weights.h5, .keras or .pth file (default with --model-dir: "
        "RUN/best.weights.h5, else RUN/last.weights.h5)",
    )


def run(args):
    recipe = recipe_from_args(args)
    weights = weights_from_args(args)
    data_dir = data_dir_from_args(args)
    from hrnet_keras.training.trainer import evaluate

    print(f"Evaluating {weights} on {data_dir}.")
    metrics = evaluate(recipe, data_dir, weights)
    print(json.dumps(metrics, default=float))
    return 0
