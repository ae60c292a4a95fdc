"""What the chart sets and runs matches what the services read and provide."""
from __future__ import annotations

import importlib
import re

import pytest

from tests.k8s.k8s_support import CHART, REPO, SERVICES

# Read by storefront_common.serve, prometheus_client and libpq (under SQLAlchemy's psycopg2), not by the settings classes.
PROCESS_ENV = {"PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY", "PGSSLROOTCERT"}


@pytest.fixture(scope="module")
def everything(render) -> list[dict]:
    return render(CHART, "-f", str(REPO / "tests/k8s/values/all.yaml"))


@pytest.mark.parametrize("service", SERVICES)
def test_every_variable_the_chart_sets_is_a_setting(everything, service):
    settings = importlib.import_module(f"storefront_{service}.settings").Settings
    fields = {name.upper() for name in settings.model_fields}
    deployment = next(d for d in everything if d["kind"] == "Deployment" and d["metadata"]["name"] == f"acme-{service}")
    env = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    unknown = env - fields - PROCESS_ENV
    assert not unknown, f"{service} has no setting for {sorted(unknown)}"
    assert {"DATABASE_URL", "SERVICE_CLIENT_SECRET"} <= fields  # what the per-service Secret provides
    if service == "users":
        assert "SERVICE_CLIENTS" in fields


@pytest.mark.parametrize("service", SERVICES)
def test_every_command_the_chart_runs_exists(everything, service):
    sources = "\n".join(p.read_text() for p in (REPO / "services" / service).glob(f"storefront_{service}/**/*.py"))
    sources += (REPO / "services/common/storefront_common/migrations.py").read_text()
    commands = set(re.findall(r'@click\.command\("([a-z-]+)"\)', sources))
    run = [d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][-1]
           for d in everything if d["kind"] == "CronJob" and d["metadata"]["labels"]["app.kubernetes.io/component"] == service]
    run += ["migrate"]
    assert set(run) <= commands, f"{service} has no command {sorted(set(run) - commands)}"
