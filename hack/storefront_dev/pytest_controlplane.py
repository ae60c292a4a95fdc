"""pytest plugin: a real control plane (etcd + kube-apiserver) per test session.

Enable with ``pytest -p storefront_dev.pytest_controlplane`` or
``pytest_plugins = ["storefront_dev.pytest_controlplane"]`` in a conftest.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storefront_dev.controlplane import ControlPlane, ControlPlaneError, build_binaries

Completed = subprocess.CompletedProcess[str]
ToolRunner = Callable[..., Completed]


@pytest.fixture(scope="session")
def control_plane_bin_dir() -> Path:
    try:
        return build_binaries()
    except ControlPlaneError as err:
        # Fail, never skip: a silently skipped cluster test hides real breakage.
        pytest.fail(f"control plane binaries unavailable and could not be built: {err}", pytrace=False)


@pytest.fixture(scope="session")
def control_plane(control_plane_bin_dir: Path) -> Iterator[ControlPlane]:
    cp = ControlPlane(control_plane_bin_dir)
    try:
        cp.start()
    except ControlPlaneError as err:
        cp.stop()
        pytest.fail(f"control plane failed to start: {err}", pytrace=False)
    try:
        yield cp
    finally:
        cp.stop()


def run_tool(
    cp: ControlPlane, tool: str, args: tuple[str, ...], input: str | None, timeout: float
) -> Completed:
    """Run kubectl or helm from the control plane's bin dir against its kubeconfig."""
    return subprocess.run(
        [str(cp.bin_dir / tool), "--kubeconfig", str(cp.kubeconfig_path), *args],
        input=input,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )


def wait_established(kubectl: ToolRunner, *crds: str, timeout: float = 30.0) -> Completed:
    """`kubectl wait --for=condition=Established` on the named CRDs. Right after an apply a CRD may have
    no status.conditions yet, and kubectl then fails at once instead of waiting: ask again."""
    deadline = time.monotonic() + timeout
    while True:
        result = kubectl("wait", "--for=condition=Established", *(f"crd/{name}" for name in crds),
                         f"--timeout={timeout:.0f}s")
        if result.returncode == 0 or "accessor error" not in result.stderr or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.fixture(scope="session")
def kubectl(control_plane: ControlPlane) -> ToolRunner:
    """``kubectl("get", "ns", input=None)`` -> CompletedProcess (text, not checked)."""

    def run(*args: str, input: str | None = None, timeout: float = 60.0) -> Completed:
        return run_tool(control_plane, "kubectl", args, input, timeout)

    return run


@pytest.fixture(scope="session")
def helm(control_plane: ControlPlane) -> ToolRunner:
    """``helm("template", ...)`` -> CompletedProcess, pointed at the test cluster."""

    def run(*args: str, input: str | None = None, timeout: float = 120.0) -> Completed:
        return run_tool(control_plane, "helm", args, input, timeout)

    return run
