"""What every suite shares: the fixtures of storefront_common.testing.plugin (a private PostgreSQL, signing
keys and tokens, a JWKS over HTTP), storefront_common.testing.browser (a real Chromium page that fails the test
on console errors and failed requests) and storefront_dev.pytest_controlplane (the Go-built control plane), and the
markers of the slow groups, given by folder so that `-m "not cluster"` and the like select them."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "storefront_common.testing.plugin",
    "storefront_common.testing.browser",
    "storefront_dev.pytest_controlplane",
]

ROOT = Path(__file__).parent
SLOW_GROUPS = {  # folder -> marker
    "tests/k8s": "controlplane",
    "tests/operator": "controlplane",
    "hack/tests/test_controlplane.py": "controlplane",
    "tests/e2e": "e2e",
    "tests/cluster": "cluster",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.relative_to(ROOT).as_posix()
        for folder, marker in SLOW_GROUPS.items():
            if where == folder or where.startswith(folder + "/"):
                item.add_marker(marker)
