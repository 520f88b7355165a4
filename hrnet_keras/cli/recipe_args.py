"""The arguments every recipe-driven command shares: RECIPE and `--set section.field=value`."""

import os
import sys


def add_recipe_arguments(parser, *, recipe_option=False):
    """Adds RECIPE and the repeatable `--set` to `parser`.

    With `recipe_option` (commands with no other positional argument), the recipe may also be
    given as `--recipe RECIPE`.
    """
    parser.add_argument(
        "recipe",
        nargs="?" if recipe_option else None,
        help="a recipe file (path/to/recipe.py), or the name of one in ./recipes/",
    )
    if recipe_option:
        parser.add_argument("--recipe", dest="recipe_option", help="the same as RECIPE")
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


def load_recipe_from_args(args):
    """The recipe the command line names, with its `--set` overrides applied."""
    from hrnet_keras.training.recipe import load_recipe

    recipe, option = args.recipe, getattr(args, "recipe_option", None)
    if (recipe is None) == (option is None):
        raise ValueError(
            "Give the recipe once, as RECIPE or --recipe RECIPE. "
            f"Received: RECIPE={recipe!r}, --recipe={option!r}"
        )
    return load_recipe(resolve_recipe_path(recipe or option), args.overrides)


def fail(command, error):
    """Prints `error` as the command's one-line complaint; returns the exit status 2."""
    print(f"hrnet-keras {command}: error: {error}", file=sys.stderr)
    return 2
