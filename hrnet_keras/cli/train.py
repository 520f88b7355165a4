"""`hrnet-keras train RECIPE --data-dir DIR --model-dir OUT [--set key=value ...]`.

Trains with `model.fit` under the recipe's distribution strategy. Run the same command again
to resume from the last checkpoint in OUT. On a cluster, run it on every worker with its
`TF_CONFIG`, OUT on shared storage. OUT records the recipe and DIR, so that
`hrnet-keras evaluate --model-dir OUT` needs nothing else.
"""

from hrnet_keras.cli import CommandFailed
from hrnet_keras.cli.recipe_args import add_recipe_arguments, data_dir_from_args, recipe_from_args


def add_arguments(parser):
    add_recipe_arguments(parser, recipe_option=True)
    parser.add_argument(
        "--data-dir", "--data", dest="data_dir", required=True, help="the dataset root"
    )
    parser.add_argument(
        "--model-dir", required=True, help="the run folder: checkpoints, weights, logs"
    )
    parser.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=1, help="0 silent, 1 bar, 2 a line"
    )


def run(args):
    recipe = recipe_from_args(args)
    data_dir = data_dir_from_args(args)
    from hrnet_keras.training.callbacks import BEST, LAST
    from hrnet_keras.training.trainer import train

    result = train(recipe, data_dir, args.model_dir, verbose=args.verbose)
    if result.nan_step is not None:
        raise CommandFailed(
            f"the loss became NaN or infinite at step {result.nan_step}; the last good "
            f"checkpoint is in {args.model_dir}/checkpoints"
        )
    print(f"Trained {result.steps} steps.")
    print(f"best weights: {args.model_dir}/{BEST}")
    print(f"last weights: {args.model_dir}/{LAST}")
    return 0
