"""`hrnet-keras predict RECIPE --weights FILE IMAGE... --out DIR [--box x,y,w,h] [--set ...]`,
or `hrnet-keras predict --model-dir RUN IMAGE... --out DIR` for a run folder `train` wrote.

Writes the task's pictures of its predictions to DIR and prints their paths. `--box` (a
face box, which landmark tasks need) and `--option key=value` are passed on to the task.
With `--model-dir`, every positional argument is an image (a recipe other than the run's
goes in `--recipe`).
"""

import ast
import os

from hrnet_keras.cli.recipe_args import add_recipe_arguments, recipe_from_args, weights_from_args
from hrnet_keras.errors import UsageError


def _box(text):
    try:
        box = tuple(float(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise UsageError(f"`--box` must be x,y,w,h (four numbers). Received: --box {text}")
    return box


def _option(text):
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise UsageError(f"`--option` must look like key=value. Received: --option {text}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def add_arguments(parser):
    add_recipe_arguments(parser, recipe_option=True, model_dir=True)
    parser.add_argument(
        "--weights",
        help=".weights.h5, .keras or .pth file (default with --model-dir: "
        "RUN/best.weights.h5, else RUN/last.weights.h5)",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders")
    parser.add_argument("--out", required=True, help="folder for the pictures")
    parser.add_argument("--box", help="x,y,w,h of the object (landmark tasks need it)")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another keyword for the task's predict (repeatable)",
    )


def assign_positionals(args):
    """Sorts the positional arguments into RECIPE and the images, in place.

    argparse cannot: RECIPE is optional (`--model-dir`, `--recipe`), the images are not.
    """
    if args.model_dir is not None and args.recipe is not None:
        # With a run folder every positional argument is an image.
        args.images, args.recipe = [args.recipe, *args.images], None
    elif args.model_dir is None and args.recipe is None and args.recipe_option is None:
        # `predict RECIPE --out DIR`: argparse gave RECIPE to the images.
        args.recipe = args.images.pop(0)
        if not args.images:
            raise UsageError("Give at least one IMAGE to predict on. Received: images=[]")
    return args


def run(args):
    assign_positionals(args)
    recipe = recipe_from_args(args)
    weights = weights_from_args(args)
    for image in args.images:
        if not os.path.exists(image):
            raise UsageError(f"IMAGE names no file or folder. Received: image={image!r}")
    options = dict(_option(text) for text in args.option)
    if args.box is not None:
        options["box"] = _box(args.box)
    from hrnet_keras.training.trainer import predict

    for path in predict(recipe, weights, args.images, args.out, **options):
        print(path)
    return 0
