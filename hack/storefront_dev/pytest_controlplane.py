"""pytest plugin: a real control plane (etcd + kube-apiserver) per test session.

Enable with ``pytest -p storefront_dev.pytest_controlplane`` or
``pytest_plugins = ["storefront_dev.pytest_controlplane"]`` in a conftest.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storefront_dev.controlplane import ControlPlane, ControlPlaneError, build_binaries

KubectlRunner = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="session")
def control_plane_bin_dir() -> Path:
    try:
        return build_binaries()
    except ControlPlaneError as err:
        # Fail, never skip: a silently skipped cluster test hides real breakage.
        pytest.fail(f"control plane binaries unavailable and could not be built: {err}", pytrace=False)


@pytest.fixture(scope="session")
def control_plane(control_plane_bin_dir: Path) -> Iterator[ControlPlane]:
    try:
        cp = ControlPlane(control_plane_bin_dir)
        cp.__enter__()
    except ControlPlaneError as err:
        pytest.fail(f"control plane failed to start: {err}", pytrace=False)
    try:
        yield cp
    finally:
        cp.stop()


def run_kubectl(cp: ControlPlane, *args: str, input: str | None = None, timeout: float = 60.0) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [str(cp.bin_dir / "kubectl"), "--kubeconfig", str(cp.kubeconfig_path), *args],
        input=input,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def kubectl(control_plane: ControlPlane) -> KubectlRunner:
    """``kubectl("get", "ns", input=None)`` -> CompletedProcess (text, not checked)."""

    def run(*args: str, input: str | None = None, timeout: float = 60.0) -> "subprocess.CompletedProcess[str]":
        return run_kubectl(control_plane, *args, input=input, timeout=timeout)

    return run


@pytest.fixture(scope="session")
def helm(control_plane: ControlPlane) -> KubectlRunner:
    """``helm("template", ...)`` -> CompletedProcess, pointed at the test cluster."""

    def run(*args: str, input: str | None = None, timeout: float = 120.0) -> "subprocess.CompletedProcess[str]":
        return subprocess.run(
            [str(control_plane.bin_dir / "helm"), "--kubeconfig", str(control_plane.kubeconfig_path), *args],
            input=input,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )

    return run
