"""The arguments recipe-driven commands share: RECIPE, `--set`, and a run folder's defaults.

Every check here raises `UsageError` (exit status 2, see `hrnet_keras.cli`).
"""

import os

from hrnet_keras.errors import UsageError


def add_recipe_arguments(parser, *, recipe_option=False, model_dir=False):
    """Adds RECIPE and the repeatable `--set` to `parser`.

    With `recipe_option` (commands with no other positional argument), the recipe may also be
    given as `--recipe RECIPE`. With `model_dir`, `--model-dir RUN` (a folder `train` wrote)
    stands in for RECIPE, `--weights` and `--data-dir` (see `recipe_from_args`).
    """
    parser.add_argument(
        "recipe",
        nargs="?" if recipe_option or model_dir else None,
        help="a recipe file (path/to/recipe.py), or the name of one in ./recipes/",
    )
    if recipe_option:
        parser.add_argument("--recipe", dest="recipe_option", help="the same as RECIPE")
    if model_dir:
        parser.set_defaults(reads_run_folder=True)
        parser.add_argument(
            "--model-dir",
            metavar="RUN",
            help="the run folder of a `train`: the recipe from RUN/recipe.json (unless RECIPE "
            "is given), the weights RUN/best.weights.h5 (RUN/last.weights.h5 when there is no "
            "best) unless --weights, the data folder it trained on unless --data-dir",
        )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override a recipe field, e.g. runtime.global_batch_size=4 (repeatable)",
    )


def resolve_recipe_path(recipe):
    """A recipe path as given, or `recipes/{recipe}.py` relative to the current directory.

    Example:
    >>> resolve_recipe_path("no_such_recipe")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: No recipe file 'no_such_recipe', nor recipes/no_such_recipe.py ...
    """
    if os.path.isfile(recipe):
        return recipe
    name = recipe if recipe.endswith(".py") else f"{recipe}.py"
    candidate = os.path.join("recipes", name)
    if os.path.isfile(candidate):
        return candidate
    raise FileNotFoundError(
        f"No recipe file {recipe!r}, nor recipes/{name} under the current directory. "
        f"Received: recipe={recipe!r}"
    )


def _recipe_name(args):
    recipe, option = args.recipe, getattr(args, "recipe_option", None)
    if recipe is not None and option is not None:
        raise UsageError(
            "Give the recipe once, as RECIPE or --recipe RECIPE. "
            f"Received: RECIPE={recipe!r}, --recipe={option!r}"
        )
    return recipe if recipe is not None else option


def recipe_from_args(args):
    """The recipe the command line names, with its `--set` overrides applied.

    RECIPE (or `--recipe`) is a recipe file; without one, `--model-dir`'s `recipe.json`.
    """
    from hrnet_keras.training.recipe import load_recipe
    from hrnet_keras.training.run_folder import load_run_recipe

    name = _recipe_name(args)
    model_dir = _run_folder(args)
    try:
        if name is not None:
            return load_recipe(resolve_recipe_path(name), args.overrides)
        if model_dir is not None:
            require_dir(model_dir, "--model-dir")
            return load_run_recipe(model_dir, args.overrides)
    except UsageError:
        raise
    except (OSError, ValueError, TypeError) as error:
        raise UsageError(str(error)) from error
    with_run = ", or --model-dir RUN" if getattr(args, "reads_run_folder", False) else ""
    raise UsageError(f"Name the recipe: RECIPE{with_run}. Received: RECIPE=None")


def weights_from_args(args):
    """`--weights`, else the run folder's best (or last) weights; the file must exist."""
    from hrnet_keras.training.run_folder import run_weights

    if args.weights is None:
        if _run_folder(args) is None:
            raise UsageError("Give --weights FILE (or --model-dir RUN). Received: weights=None")
        try:
            return run_weights(args.model_dir)
        except FileNotFoundError as error:
            raise UsageError(str(error)) from error
    return require_file(args.weights, "--weights")


def data_dir_from_args(args, *, required=True):
    """`--data-dir`, else the data folder the run trained on (None if neither, unless
    `required`); the folder must exist."""
    from hrnet_keras.training.run_folder import run_data_dir

    data_dir, flag = args.data_dir, "--data-dir"
    if data_dir is None and _run_folder(args) is not None:
        data_dir = run_data_dir(args.model_dir)
        flag = "The run's data folder (its run.json; --data-dir overrides it)"
    if data_dir is None:
        if not required:
            return None
        raise UsageError("Give --data-dir DIR (the dataset root). Received: data_dir=None")
    return require_dir(data_dir, flag, "data_dir")


def _run_folder(args):
    """`--model-dir` of a command that reads run folders (not `train`'s output folder)."""
    return args.model_dir if getattr(args, "reads_run_folder", False) else None


def require_file(path, flag):
    """`path`, or a `UsageError` naming `flag` when there is no file there."""
    if not os.path.isfile(path):
        raise UsageError(f"{flag} names no file. Received: {_arg(flag)}={path!r}")
    return path


def require_dir(path, flag, arg=None):
    """`path`, or a `UsageError` naming `flag` (and `arg`) when there is no folder there."""
    if not os.path.isdir(path):
        raise UsageError(f"{flag} names no folder. Received: {arg or _arg(flag)}={path!r}")
    return path


def _arg(flag):
    return flag.lstrip("-").replace("-", "_").lower()
