"""Paths and small helpers shared by the packaging tests."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CHART = REPO / "charts" / "storefront"
OPERATOR_CHART = REPO / "charts" / "storefront-operator"
CRD = REPO / "k8s" / "crds" / "storefront.yaml"
VALUES = Path(__file__).resolve().parent / "values"
SERVICES = ("users", "products", "carts", "orders", "payments")
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
