"""charts/storefront renders, for every value set, exactly the objects it rendered before it was rewritten
to `default` + `components.<name>`: golden/<set>.yaml holds what the old chart rendered from the old form
of each value set, and the operator's sets are what workloads.chart_values makes of each Storefront in
values/storefronts.yaml (with fixed provisioned Secret names), then and now."""
from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

import pytest
import yaml

from storefront_operator.secrets import ProvisionedSecrets
from storefront_operator.settings import SERVICE_NAMES
from storefront_operator.spec import StorefrontSpec
from storefront_operator.workloads import ChartRenderer, chart_values
from tests.k8s.k8s_support import CHART, VALUES

GOLDEN = Path(__file__).resolve().parent / "golden"
STOREFRONTS = VALUES / "storefronts.yaml"
CHART_VALUE_SETS = {
    "defaults": [],
    "eks": [CHART / "values-eks.yaml"],
    "dev": [CHART / "values-dev.yaml"],
    "all": [VALUES / "all.yaml"],
    "minimal": [VALUES / "minimal.yaml"],
}
GENERATED_KEY = "<an RSA key helm generated>"

Key = tuple[str, str, str]  # kind, namespace, name


def storefronts() -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(STOREFRONTS.read_text()) if doc}


def provisioned(spec: StorefrontSpec) -> ProvisionedSecrets:
    """What the Secrets step would report, with names as secrets.py makes them and fixed digests."""
    return ProvisionedSecrets(
        signing_key_secret=f"{spec.name}-signing-key", active_kid="kid-1", published_kids=["kid-1"],
        database_secrets={s: f"{spec.name}-{s}-db" for s in SERVICE_NAMES},
        client_secrets={s: f"{spec.name}-{s}-client" for s in SERVICE_NAMES},
        admin_account_secret=f"{spec.name}-admin",
        embedded_admin_secret=f"{spec.name}-postgresql-admin" if spec.embedded_database is not None else "",
        complete=True, environment_digests={s: f"digest-{s}" for s in SERVICE_NAMES})


def _generated_key(value: str) -> bool:
    try:
        return base64.b64decode(value).startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    except (binascii.Error, ValueError):
        return False


def by_key(docs: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Objects by kind, namespace and name; the signing key development.createSecrets generates (a new
    one each render) becomes a placeholder."""
    objects: dict[Key, dict[str, Any]] = {}
    for doc in docs:
        if doc["kind"] == "Secret" and doc.get("data"):
            doc["data"] = {key: GENERATED_KEY if _generated_key(value) else value for key, value in doc["data"].items()}
        key = (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
        assert key not in objects, f"{key} rendered twice"
        objects[key] = doc
    return objects


def golden(name: str) -> dict[Key, dict[str, Any]]:
    return by_key([doc for doc in yaml.safe_load_all((GOLDEN / f"{name}.yaml").read_text()) if doc])


def render_storefront(helm: str, chart: Path, storefront: dict[str, Any]) -> list[dict[str, Any]]:
    """As the operator renders a Storefront (ChartRenderer: release and namespace of the Storefront, no test Pod)."""
    spec = StorefrontSpec.from_object(storefront)
    return ChartRenderer(helm, chart).render(spec.name, spec.namespace, chart_values(spec, provisioned(spec)))


@pytest.mark.parametrize("name", CHART_VALUE_SETS)
def test_chart_renders_the_golden_objects(render, name: str) -> None:
    args = [arg for path in CHART_VALUE_SETS[name] for arg in ("-f", str(path))]
    assert by_key(render(CHART, *args)) == golden(name)


@pytest.mark.parametrize("name", storefronts())
def test_operator_values_render_the_golden_objects(control_plane_bin_dir: Path, name: str) -> None:
    rendered = render_storefront(str(control_plane_bin_dir / "helm"), CHART, storefronts()[name])
    assert by_key(rendered) == golden(f"operator-{name}")
