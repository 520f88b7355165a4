"""Every `hrnet-keras ...` command line written in the recipes' docstrings, the docs and the
README parses with the real parser, and its recipe and `--set` overrides load.

Only the argument parsing runs (and the recipe file loads), not the training.
"""

import ast
import pathlib
import shlex

import pytest

from hrnet_keras.cli import COMMANDS, command_parser
from hrnet_keras.cli.predict import assign_positionals
from hrnet_keras.cli.recipe_args import recipe_from_args

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "2>&1", "&"}


def _is_synopsis(tokens):
    # `hrnet-keras train RECIPE --data-dir DIR [--set k=v ...]` describes, it does not run.
    return any(t.isupper() or t.startswith("[") or t.endswith("...") for t in tokens)


def _command_lines(text):
    """`hrnet-keras` command lines of `text`, continuation lines joined."""
    logical = text.replace("\\\n", " ").splitlines()
    commands = []
    for line in logical:
        if "hrnet-keras" not in line:
            continue
        tokens = shlex.split(line, comments=True)
        starts = [i for i, t in enumerate(tokens) if t == "hrnet-keras"]
        for start in starts:
            if start and tokens[start - 1] not in SHELL_OPERATORS:
                continue
            command = []
            for token in tokens[start + 1 :]:
                if token in SHELL_OPERATORS:
                    break
                command.append(token)
            if not _is_synopsis(command):
                commands.append(command)
    return commands


def _fenced_blocks(markdown):
    blocks, inside = [], None
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            if inside is None:
                inside = []
            else:
                blocks.append("\n".join(inside))
                inside = None
        elif inside is not None:
            inside.append(line)
    return "\n".join(blocks)


def _documented_commands():
    found = []
    for path in sorted((ROOT / "recipes").glob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        found += [(path, command) for command in _command_lines(docstring)]
    for path in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        found += [(path, c) for c in _command_lines(_fenced_blocks(path.read_text()))]
    return found


DOCUMENTED = _documented_commands()


def test_the_documented_commands_are_found():
    sources = {path.name for path, _ in DOCUMENTED}
    assert len(DOCUMENTED) >= 20
    for name in ("cityscapes_hrnetv2_w48.py", "training.md", "landmarks.md", "checkpoints.md"):
        assert name in sources
    assert {command[0] for _, command in DOCUMENTED} >= {"train", "evaluate", "predict", "export"}


@pytest.mark.parametrize(
    ("path", "command"),
    DOCUMENTED,
    ids=[f"{p.name}:{' '.join(c)[:60]}" for p, c in DOCUMENTED],
)
def test_documented_command_parses(path, command, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # recipe names resolve in ./recipes, as the docs run them
    name, *argv = command
    assert name in COMMANDS, f"{path.name}: no command {name!r}"
    parser, _ = command_parser(name)
    try:
        args = parser.parse_intermixed_args(argv)
    except SystemExit:
        pytest.fail(f"{path.name}: `hrnet-keras {' '.join(command)}`: {capsys.readouterr().err}")
    if name == "predict":
        assign_positionals(args)
    run_folder_only = getattr(args, "reads_run_folder", False) and not (
        args.recipe or getattr(args, "recipe_option", None)
    )
    if hasattr(args, "recipe") and not run_folder_only:  # a run folder of the docs' own
        recipe = recipe_from_args(args)
        assert recipe.build_task() is not None
