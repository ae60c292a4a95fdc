"""`python -m storefront_operator`: run the operator standalone (namespaces from STOREFRONT_NAMESPACES)."""
from __future__ import annotations

import argparse
import logging
import os
import sys

import kopf

from .settings import OperatorSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storefront_operator")
    parser.add_argument("--peering", default="", help="peering name; empty: standalone")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.verbose or os.environ.get("LOG_LEVEL", "").lower() == "debug":
        logging.getLogger("storefront_operator").setLevel(logging.DEBUG)
    namespaces = OperatorSettings().namespaces
    kopf.run(standalone=not args.peering, peering_name=args.peering or None,
             clusterwide=not namespaces, namespaces=namespaces)
    return 0


if __name__ == "__main__":
    sys.exit(main())
