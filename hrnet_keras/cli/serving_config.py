"""`hrnet-keras serving-config DIR`: TF Serving's `models.config` for every model folder
under DIR (`DIR/NAME/<version>/`, as `hrnet-keras export --format savedmodel --out DIR/NAME`
writes them), and the command that serves them.

The config's paths are where the server sees DIR: `/models` (the printed `docker run`
mounts DIR there) or `--base-path` (`--base-path DIR` itself for a server on this machine).
"""

from hrnet_keras.errors import UsageError


def add_arguments(parser):
    parser.add_argument("root", metavar="DIR", help="the folder of TF Serving model folders")
    parser.add_argument(
        "--base-path",
        default="/models",
        help="where the server sees DIR (default /models, the docker mount)",
    )


def run(args):
    import os

    from hrnet_keras.export.serving_config import docker_command, write_serving_config

    if not os.path.isdir(args.root):
        raise UsageError(f"DIR must be a folder of model folders. Received: DIR={args.root!r}")
    try:
        path = write_serving_config(args.root, base_path=args.base_path)
    except (FileNotFoundError, ValueError) as error:
        raise UsageError(str(error)) from error
    print(path)
    print(docker_command(args.root))
    return 0
