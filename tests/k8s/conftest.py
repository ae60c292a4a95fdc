"""Fixtures for the packaging tests: helm and kubectl against a real control plane."""
from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storefront_dev.pytest_controlplane import wait_established
from tests.k8s.k8s_support import OPERATOR_CHART, RESTRICTED, Runner, check, documents



@pytest.fixture(scope="package")
def helm_offline(control_plane_bin_dir: Path) -> Runner:
    """helm without a cluster: lint and template need none."""

    def run(*args: str, timeout: float = 120.0) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([str(control_plane_bin_dir / "helm"), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)

    return run


@pytest.fixture(scope="package")
def render(helm_offline: Runner) -> Callable[..., list[dict]]:
    """render(chart, *helm_args) -> the documents `helm template` prints."""

    def run(chart: Path, *args: str, release: str = "acme", namespace: str = "shop") -> list[dict]:
        return documents(check(helm_offline("template", release, str(chart), "--namespace", namespace, *args)))

    return run


@pytest.fixture(scope="package")
def namespace(kubectl: Runner) -> Callable[..., str]:
    """namespace(name, restricted=True) creates it (idempotently) and returns its name."""

    def make(name: str, restricted: bool = True) -> str:
        manifest = {"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name, "labels": RESTRICTED if restricted else {}}}
        check(kubectl("apply", "-f", "-", input=json.dumps(manifest)))
        return name

    return make


@pytest.fixture(scope="package")
def storefront_crd(kubectl: Runner) -> Iterator[None]:
    """The CRDs of the operator chart (the Storefront CRD and kopf's peering CRDs), installed for real."""
    check(kubectl("apply", "--server-side", "-f", str(OPERATOR_CHART / "crds")))
    check(wait_established(kubectl, "storefronts.storefront.dev", "kopfpeerings.kopf.dev", "clusterkopfpeerings.kopf.dev"))
    # Discovery catches up a moment after Established.
    deadline = time.monotonic() + 30
    while kubectl("get", "storefronts", "-A").returncode != 0:
        assert time.monotonic() < deadline, "storefronts never became servable"
        time.sleep(0.2)
    yield
