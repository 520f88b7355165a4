"""The `hrnet-keras` command.

Each subcommand lives in its own module with `add_arguments(parser)` and `run(args)`; the
table below is the only place that lists them, and a module is imported only when its
subcommand runs (TensorFlow's import is slow; `--help` should not pay for it).
"""

import argparse
import importlib
import sys

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
        print(f"hrnet-keras: unknown command {command!r}.\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, help_ = COMMANDS[command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"hrnet-keras {command}", description=help_)
    module.add_arguments(parser)
    return module.run(parser.parse_args(rest)) or 0
