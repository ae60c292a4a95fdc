"""CLI: python -m storefront_dev.cluster up|down|deploy|restart|serve."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import lifecycle
from .deploy import deploy
from .layout import Layout
from .supervisor import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storefront_dev.cluster")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the cluster (instant when it runs)")
    commands.add_parser("down", help="stop it and remove everything it made")
    commands.add_parser("deploy", help="build and import the images, install the operator and the dev Storefront")
    restart = commands.add_parser("restart", help="restart node components, as systemctl restart would")
    restart.add_argument("components", nargs="+", choices=["containerd", "kubelet", "kube-proxy", "kube-apiserver",
                                                           "kube-controller-manager", "kube-scheduler", "etcd"])
    serve_parser = commands.add_parser("serve", help="(internal) the supervisor, inside the namespace")
    serve_parser.add_argument("--bin-dir", type=Path, required=True)
    serve_parser.add_argument("--image", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    paths = Layout()
    try:
        if args.command == "up":
            return lifecycle.up(paths)
        if args.command == "down":
            return lifecycle.down(paths)
        if args.command == "deploy":
            return deploy(paths)
        if args.command == "restart":
            return lifecycle.restart(paths, args.components)
        return serve(paths, args.bin_dir, args.image)
    except RuntimeError as err:
        print(f"cluster: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
