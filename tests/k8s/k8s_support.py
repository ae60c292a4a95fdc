"""Paths and small helpers shared by the packaging tests."""
from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml

from storefront_operator import topology

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CHART = REPO / "charts" / "storefront"
OPERATOR_CHART = REPO / "charts" / "storefront-operator"
CRD = REPO / "k8s" / "crds" / "storefront.yaml"
VALUES = Path(__file__).resolve().parent / "values"
CONTRACT = REPO / "docs" / "api-contract.md"
TOPOLOGY = topology.load(CHART)
SERVICES = TOPOLOGY.names
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def check(result: "subprocess.CompletedProcess[str]") -> str:
    assert result.returncode == 0, f"{result.args}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    return result.stdout


def documents(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def contract_routes() -> dict[str, str]:
    """path prefix -> service, from the table under "## Ingress routing" in the API contract."""
    section = CONTRACT.read_text().split("## Ingress routing", 1)[1].split("\n## ", 1)[0]
    routes = {}
    for prefixes, service in re.findall(r"^\| (`.+`) \| (\w+) \|$", section, re.MULTILINE):
        routes.update((prefix, service) for prefix in re.findall(r"`([^`]+)`", prefixes))
    return routes
