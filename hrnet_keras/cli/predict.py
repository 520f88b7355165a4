"""`hrnet-keras predict RECIPE --weights FILE IMAGE... --out DIR [--box x,y,w,h] [--set ...]`.

Writes the task's pictures of its predictions to DIR and prints their paths. `--box` (a
face box, for landmark tasks) and `--option key=value` are passed on to the task.
"""

import ast

from hrnet_keras.cli.recipe_args import add_recipe_arguments, fail, load_recipe_from_args


def _box(text):
    try:
        box = tuple(float(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise ValueError(f"`--box` must be x,y,w,h (four numbers). Received: --box {text}")
    return box


def _option(text):
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise ValueError(f"`--option` must look like key=value. Received: --option {text}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def add_arguments(parser):
    add_recipe_arguments(parser)
    parser.add_argument("--weights", required=True, help=".weights.h5, .keras or .pth file")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders")
    parser.add_argument("--out", required=True, help="folder for the pictures")
    parser.add_argument("--box", help="x,y,w,h of the object (landmark tasks)")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another keyword for the task's predict (repeatable)",
    )


def run(args):
    try:
        recipe = load_recipe_from_args(args)
        options = dict(_option(text) for text in args.option)
        if args.box is not None:
            options["box"] = _box(args.box)
    except (OSError, ValueError, TypeError) as error:
        return fail("predict", error)
    from hrnet_keras.training.trainer import predict

    try:
        paths = predict(recipe, args.weights, args.images, args.out, **options)
    except (FileNotFoundError, TypeError) as error:
        return fail("predict", error)
    for path in paths:
        print(path)
    return 0
