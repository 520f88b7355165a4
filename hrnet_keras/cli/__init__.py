"""The `hrnet-keras` command.

Each subcommand lives in its own module with `add_arguments(parser)` and `run(args)`; the
table below is the only place that lists them, and a module is imported only when its
subcommand runs (TensorFlow's import is slow; `--help` should not pay for it).

Exit status, the same for every command, and set here only (`main`): 0 on success; 2 for a
usage error -- bad arguments (argparse's own), a file named on the command line that is
not there, an unknown recipe field, an option or capability the task lacks: whatever
raises `hrnet_keras.errors.UsageError`; 1 for a failure at run time (`CommandFailed`, or
the file system failing). Both print one line, `hrnet-keras COMMAND: error: ...`, on stderr
and no traceback; any other exception is a bug and keeps its traceback.
"""

import argparse
import importlib
import sys

from hrnet_keras.errors import UsageError


class CommandFailed(Exception):
    """A command that was asked correctly could not do its job (exit status 1)."""


COMMANDS = {
    "demo": (
        "hrnet_keras.cli.demo",
        ("train, evaluate, predict and export a small model on a built-in sample"),
    ),
    "models": ("hrnet_keras.cli.models", "print every variant with its parameters and GFLOPs"),
    "convert": ("hrnet_keras.cli.convert", "convert a PyTorch HRNet checkpoint to a .keras file"),
    "train": ("hrnet_keras.cli.train", "train a recipe with model.fit"),
    "evaluate": ("hrnet_keras.cli.evaluate", "evaluate weights on a recipe's evaluation split"),
    "predict": ("hrnet_keras.cli.predict", "predict on images and write pictures of the results"),
    "export": ("hrnet_keras.cli.export", "export a SavedModel or a TFLite file"),
    "serving-config": (
        "hrnet_keras.cli.serving_config",
        "write TF Serving's models.config for a folder of exported models",
    ),
}


def _usage():
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: hrnet-keras COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`hrnet-keras COMMAND --help` describes a command's arguments."]
    return "\n".join(lines)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"{_usage()}\n\nhrnet-keras: error: unknown command {command!r}", file=sys.stderr)
        return 2
    parser, module = command_parser(command)
    try:
        # Intermixed, so that `predict RECIPE --weights W IMAGE` gives RECIPE to the
        # optional RECIPE argument, not to the images.
        args = parser.parse_intermixed_args(rest)
    except SystemExit as exit_:  # argparse: 0 after --help, 2 after its own usage message
        return exit_.code
    try:
        return module.run(args) or 0
    except UsageError as error:
        return _complain(command, error, 2)
    except (CommandFailed, OSError) as error:
        return _complain(command, error, 1)


def command_parser(command):
    """`(parser, module)` of a subcommand: its `argparse` parser and the module that runs it."""
    module_name, help_ = COMMANDS[command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(
        prog=f"hrnet-keras {command}",
        description=module.__doc__ or help_,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(parser)
    return parser, module


def _complain(command, error, status):
    print(f"hrnet-keras {command}: error: {error}", file=sys.stderr)
    return status
