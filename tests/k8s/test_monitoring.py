"""The chart's monitoring (monitoring.* and default/components.<name>.serviceMonitor): ServiceMonitors and the
PrometheusRule only with monitoring.enabled and where the cluster serves the Prometheus Operator's API; the
rules checked and unit-tested by promtool itself (monitoring/rules-test.yaml); the Grafana dashboard read
through Grafana's schema models (grafana_schema.py), its PromQL through a parser, every metric it or a rule
reads one that the services export, the rules record, or the services are to export (PENDING_METRICS)."""
from __future__ import annotations

import importlib
import json
import pkgutil
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import prometheus_client
import promql_parser
import pytest
import yaml
from flask import Flask

from storefront_common.observability import LATENCY
from tests.k8s import grafana_schema
from tests.k8s.k8s_support import CHART, REPO, SERVICES, check

MONITORING = ("--set", "monitoring.enabled=true")
PROMETHEUS_OPERATOR = ("--api-versions", "monitoring.coreos.com/v1")
RULES_TEST = Path(__file__).resolve().parent / "monitoring" / "rules-test.yaml"
DASHBOARD = CHART / "dashboards" / "storefront.json"
RUNBOOKS = REPO / "docs" / "runbooks.md"
MONITORING_KINDS = {"ServiceMonitor", "PrometheusRule"}
PACKAGES = [f"storefront_{name}" for name in ("common", *SERVICES, "operator")]
# Series Prometheus itself makes for every target.
PROMETHEUS_METRICS = {"up"}
# Issue 18's metrics that the services and the operator do not export yet: the dashboard and the alerts read
# them by these names (docs/monitoring.md says what each holds). Remove a name once it is exported.
PENDING_METRICS = {
    "storefront_checkouts_total",  # orders: outcome, payment_method
    "storefront_checkout_step_duration_seconds_bucket",  # orders: step, outcome (a histogram)
    "storefront_checkout_step_duration_seconds_count",
    "storefront_reservations_expired_total",  # products
    "storefront_paystack_webhook_verification_failures_total",  # payments: reason
    "storefront_payments_pending_reverification",  # payments: kind (a gauge)
    "storefront_payouts_total",  # payments: outcome
    "storefront_ledger_imbalance_minor_units",  # payments: currency (a gauge that must stay 0)
    "storefront_operator_reconcile_total",  # operator: storefront_namespace, storefront, result
    "storefront_operator_reconcile_duration_seconds_bucket",  # operator: storefront_namespace, storefront
    "storefront_operator_drift_repairs_total",  # operator: storefront_namespace, storefront, kind
    "storefront_operator_storefront_ready",  # operator: storefront_namespace, storefront (1 Ready, 0 not)
}
SAMPLE_SUFFIXES = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_count", "_sum", "_created"],
                   "gauge": [""], "summary": ["", "_count", "_sum", "_created"], "info": ["_info"]}


def of_kind(docs: list[dict], *kinds: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] in kinds]


def dashboards(docs: list[dict]) -> list[dict]:
    return [doc for doc in of_kind(docs, "ConfigMap") if "grafana_dashboard" in doc["metadata"]["labels"]]


@pytest.fixture(scope="module")
def promtool() -> Path:
    result = subprocess.run([str(REPO / "hack" / "cluster" / "build.sh"), "promtool"], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        pytest.fail("promtool could not be built (hack/cluster/build.sh promtool)", pytrace=False)
    return Path(result.stdout.split()[-1]) / "promtool"


@pytest.fixture(scope="module")
def monitored(render: Callable[..., list[dict]]) -> list[dict]:
    """Release acme in namespace shop, monitoring on, in a cluster with the Prometheus Operator."""
    return render(CHART, *MONITORING, *PROMETHEUS_OPERATOR)


@pytest.fixture(scope="module")
def rule_groups(monitored: list[dict]) -> list[dict]:
    (rule,) = of_kind(monitored, "PrometheusRule")
    return rule["spec"]["groups"]


def alerts(groups: list[dict]) -> list[dict]:
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def write_rules(directory: Path, groups: list[dict]) -> Path:
    """The PrometheusRule's groups as the rule file Prometheus loads from it; the rules test beside it."""
    shutil.copy(RULES_TEST, directory / RULES_TEST.name)
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def run_promtool(promtool: Path, *args: str, cwd: Path) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([str(promtool), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300)


# Rendering


@pytest.mark.parametrize("api", [(), PROMETHEUS_OPERATOR], ids=["plain cluster", "prometheus operator"])
def test_monitoring_is_off_by_default(render, api: tuple[str, ...]) -> None:
    docs = render(CHART, *api)
    assert not of_kind(docs, *MONITORING_KINDS)
    assert not dashboards(docs)


def test_without_the_prometheus_operator_only_the_dashboard_renders(render) -> None:
    docs = render(CHART, *MONITORING)
    assert not of_kind(docs, *MONITORING_KINDS)
    assert [doc["metadata"]["name"] for doc in dashboards(docs)] == ["acme-dashboard"]


def test_a_service_monitor_scrapes_each_service(monitored: list[dict]) -> None:
    services = {doc["metadata"]["name"]: doc for doc in of_kind(monitored, "Service")}
    monitors = {doc["metadata"]["name"]: doc for doc in of_kind(monitored, "ServiceMonitor")}
    assert sorted(monitors) == sorted(f"acme-{name}" for name in SERVICES)
    for name in SERVICES:
        monitor, service = monitors[f"acme-{name}"]["spec"], services[f"acme-{name}"]
        matched = [other for other in services.values()
                   if monitor["selector"]["matchLabels"].items() <= other["metadata"]["labels"].items()]
        assert matched == [service], f"{name}'s ServiceMonitor selects {[m['metadata']['name'] for m in matched]}"
        assert monitor["namespaceSelector"] == {"matchNames": ["shop"]}
        (endpoint,) = monitor["endpoints"]
        assert endpoint["port"] in [port["name"] for port in service["spec"]["ports"]]
        assert endpoint["path"] == "/metrics"
        assert endpoint["honorLabels"] is True  # the services' own service="<name>" label stays
        assert {(r["targetLabel"], r["replacement"]) for r in endpoint["relabelings"]} == {
            ("service", name), ("storefront", "acme")}


def test_service_monitors_follow_default_and_components(render) -> None:
    docs = render(CHART, *MONITORING, *PROMETHEUS_OPERATOR,
                  "--set", "default.serviceMonitor.enabled=false",
                  "--set", "components.orders.serviceMonitor.enabled=true",
                  "--set", "components.orders.serviceMonitor.interval=10s",
                  "--set", "components.payments.serviceMonitor.enabled=true",
                  "--set", "components.payments.enabled=false")
    (orders,) = of_kind(docs, "ServiceMonitor")
    assert orders["metadata"]["name"] == "acme-orders"
    assert orders["spec"]["endpoints"][0]["interval"] == "10s"
    assert orders["spec"]["endpoints"][0]["scrapeTimeout"] == "10s"  # the default's


def test_each_object_has_its_switch(render) -> None:
    no_rule = render(CHART, *MONITORING, *PROMETHEUS_OPERATOR, "--set", "monitoring.prometheusRule.enabled=false")
    assert not of_kind(no_rule, "PrometheusRule")
    assert len(of_kind(no_rule, "ServiceMonitor")) == len(SERVICES)
    no_dashboard = render(CHART, *MONITORING, *PROMETHEUS_OPERATOR, "--set", "monitoring.dashboard.enabled=false")
    assert not dashboards(no_dashboard)
    assert of_kind(no_dashboard, "PrometheusRule")


def test_monitoring_labels_reach_the_prometheus_selectors(render) -> None:
    docs = render(CHART, *MONITORING, *PROMETHEUS_OPERATOR, "--set", "monitoring.labels.release=prometheus")
    for doc in of_kind(docs, *MONITORING_KINDS):
        assert doc["metadata"]["labels"]["release"] == "prometheus", doc["metadata"]["name"]


def test_a_latency_threshold_that_is_no_bucket_is_refused(helm_offline) -> None:
    result = helm_offline("template", "acme", str(CHART), *MONITORING, *PROMETHEUS_OPERATOR,
                          "--set", "monitoring.prometheusRule.checkout.latencyThresholdSeconds=0.75")
    assert result.returncode != 0
    assert "latencyThresholdSeconds" in result.stderr


def test_the_schema_offers_exactly_the_services_latency_buckets() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    threshold = schema["properties"]["monitoring"]["properties"]["prometheusRule"]["properties"]["checkout"][
        "properties"]["latencyThresholdSeconds"]
    buckets = [bound for bound in LATENCY._upper_bounds if bound != float("inf")]
    assert threshold["enum"] == buckets


def test_the_checkout_slo_selects_the_checkout_route(rule_groups: list[dict]) -> None:
    """The rules select orders' checkout by the endpoint label the services give it: the Flask rule."""
    from storefront_orders.routes.orders import blueprint, create_order

    app = Flask("routes")
    app.register_blueprint(blueprint)
    (rule,) = [rule for rule in app.url_map.iter_rules() if app.view_functions[rule.endpoint] is create_order]
    assert "POST" in rule.methods
    recorded = "\n".join(rule["expr"] for group in rule_groups for rule in group["rules"] if "record" in rule)
    # Per window: the error ratio's two rates and the slow ratio's two.
    assert recorded.count(f'service="orders", method="POST", endpoint="{rule.rule}"') == 4 * 7


# The rules, by promtool


def test_promtool_checks_the_rules(promtool: Path, rule_groups: list[dict], tmp_path: Path) -> None:
    rules = write_rules(tmp_path, rule_groups)
    result = run_promtool(promtool, "check", "rules", rules.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(group["rules"]) for group in rule_groups)
    assert f"SUCCESS: {count} rules found" in result.stdout


def test_promtool_rules_test_passes(promtool: Path, rule_groups: list[dict], tmp_path: Path) -> None:
    write_rules(tmp_path, rule_groups)
    result = run_promtool(promtool, "test", "rules", RULES_TEST.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_rules_test_fails_when_an_alert_is_broken(promtool: Path, rule_groups: list[dict],
                                                         tmp_path: Path) -> None:
    """The rules test is no formality: an imbalance threshold that lets 2,500 kobo through fails it."""
    broken = json.loads(json.dumps(rule_groups))
    (ledger,) = [rule for rule in alerts(broken) if rule["alert"] == "StorefrontLedgerImbalance"]
    ledger["expr"] = ledger["expr"].replace(") > 0", ") > 10000")
    write_rules(tmp_path, broken)
    result = run_promtool(promtool, "test", "rules", RULES_TEST.name, cwd=tmp_path)
    assert result.returncode != 0
    assert "StorefrontLedgerImbalance" in result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet(rule_groups: list[dict]) -> None:
    cases = [case for test in yaml.safe_load(RULES_TEST.read_text())["tests"] for case in test.get("alert_rule_test", [])]
    for name in {rule["alert"] for rule in alerts(rule_groups)}:
        expected = [case["exp_alerts"] for case in cases if case["alertname"] == name]
        assert any(expected), f"no case where {name} fires"
        assert not all(expected), f"no case where {name} stays quiet"


def test_every_alert_says_what_and_where_to_read(rule_groups: list[dict]) -> None:
    anchors = {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
               for heading in re.findall(r"^#+ (.+)$", RUNBOOKS.read_text(), re.MULTILINE)}
    for rule in alerts(rule_groups):
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        base, anchor = annotations["runbook_url"].split("#")
        assert base == "docs/runbooks.md"
        assert anchor in anchors, f"docs/runbooks.md has no section for {rule['alert']}"


# The dashboard


@pytest.fixture(scope="module")
def dashboard(monitored: list[dict]) -> dict[str, Any]:
    (config_map,) = dashboards(monitored)
    (content,) = config_map["data"].values()
    return json.loads(content)


def test_the_dashboard_is_a_configmap_for_the_grafana_sidecar(render, monitored: list[dict],
                                                                dashboard: dict[str, Any]) -> None:
    (config_map,) = dashboards(monitored)
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert list(config_map["data"]) == ["storefront.json"]
    assert dashboard["title"] == "Storefront shop/acme"
    current = {variable["name"]: variable["current"].get("value") for variable in dashboard["templating"]["list"]}
    assert current["namespace"] == "shop" and current["storefront"] == "acme"
    (other,) = dashboards(render(CHART, *MONITORING, release="beta"))
    assert json.loads(other["data"]["storefront.json"])["uid"] != dashboard["uid"]  # two Storefronts, two dashboards


def test_the_dashboard_file_is_what_renders(dashboard: dict[str, Any]) -> None:
    """All but its uid, its title and the variables' preselected values."""
    source, rendered = json.loads(DASHBOARD.read_text()), json.loads(json.dumps(dashboard))
    for variables in (source["templating"]["list"], rendered["templating"]["list"]):
        for variable in variables:
            variable.pop("current")
    assert {**rendered, "uid": None, "title": None} == {**source, "uid": None, "title": None}


@pytest.mark.parametrize("source", ["file", "rendered"])
def test_the_dashboard_matches_grafanas_schema(dashboard: dict[str, Any], source: str) -> None:
    assert grafana_schema.problems(json.loads(DASHBOARD.read_text()) if source == "file" else dashboard) == []


def test_every_panel_queries_prometheus_and_has_its_own_place(dashboard: dict[str, Any]) -> None:
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        assert len({target["refId"] for target in panel["targets"]}) == len(panel["targets"])
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"] and target["expr"].strip(), panel["title"]


def promql_metrics(expression: str) -> set[str]:
    """The metric names an expression selects, with Grafana's variables given values first."""
    concrete = re.sub(r"\$__rate_interval|\$__interval", "5m", expression)
    concrete = re.sub(r"\$\{?(\w+)\}?", r"\1", concrete)
    names: list[str | None] = []
    promql_parser.walk(promql_parser.parse(concrete),
                       lambda node: names.append(node.name) if isinstance(node, promql_parser.VectorSelector) else None)
    assert None not in names, f"a selector without a metric name in {expression}"
    return set(names)  # type: ignore[arg-type]


def dashboard_expressions(dashboard: dict[str, Any]) -> Iterator[str]:
    for panel in dashboard["panels"]:
        yield from (target["expr"] for target in panel.get("targets", []))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            (selector,) = re.fullmatch(r"label_values\((.+), \w+\)", variable["query"]["query"]).groups()
            yield selector


@pytest.fixture(scope="module")
def exported_metrics() -> set[str]:
    """The series the services and the operator export: every metric their packages register (each module
    imported; wsgi modules build an app and are left out), as /metrics names its samples. The process and
    platform collectors are left out: multiprocess /metrics (the chart's) has none of them."""
    for package in PACKAGES:
        module = importlib.import_module(package)
        for found in pkgutil.walk_packages(module.__path__, f"{package}."):
            if not found.name.endswith(".wsgi"):
                importlib.import_module(found.name)
    default = {prometheus_client.PROCESS_COLLECTOR, prometheus_client.PLATFORM_COLLECTOR, prometheus_client.GC_COLLECTOR}
    collectors = [collector for collector in prometheus_client.REGISTRY._collector_to_names if collector not in default]
    return {family.name + suffix for collector in collectors for family in collector.collect()
            for suffix in SAMPLE_SUFFIXES[family.type]}


def known_metrics(exported: set[str], groups: list[dict]) -> set[str]:
    recorded = {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}
    return exported | recorded | PENDING_METRICS | PROMETHEUS_METRICS


def test_the_services_export_the_red_metrics(exported_metrics: set[str]) -> None:
    assert {"http_requests_total", "http_request_duration_seconds_bucket"} <= exported_metrics


def test_every_metric_on_the_dashboard_is_known(dashboard: dict[str, Any], exported_metrics: set[str],
                                                rule_groups: list[dict]) -> None:
    known = known_metrics(exported_metrics, rule_groups)
    for expression in dashboard_expressions(dashboard):
        assert promql_metrics(expression) <= known, expression


def test_every_metric_a_rule_reads_is_known(exported_metrics: set[str], rule_groups: list[dict]) -> None:
    known = known_metrics(exported_metrics, rule_groups)
    for group in rule_groups:
        for rule in group["rules"]:
            assert promql_metrics(rule["expr"]) <= known, rule.get("alert") or rule["record"]


def test_pending_metrics_are_not_exported_yet(exported_metrics: set[str]) -> None:
    """Once the instrumentation exports one, it leaves PENDING_METRICS (and this suite checks it for real)."""
    assert not PENDING_METRICS & exported_metrics, "exported now: remove them from PENDING_METRICS"
