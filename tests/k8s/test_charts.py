"""charts/storefront and charts/storefront-operator: lint, schema, rendered content, and a
server-side dry run in a namespace that enforces the restricted Pod Security Standard."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.k8s.k8s_support import CHART, OPERATOR_CHART, SERVICES, TOPOLOGY, VALUES, check, contract_routes

STOREFRONT_VALUE_SETS = {
    "defaults": [],
    "eks": ["-f", str(CHART / "values-eks.yaml")],
    "dev": ["-f", str(CHART / "values-dev.yaml")],
    "all": ["-f", str(VALUES / "all.yaml")],
    "minimal": ["-f", str(VALUES / "minimal.yaml")],
}
OPERATOR_VALUE_SETS = {
    "defaults": [],
    "namespaces": ["-f", str(VALUES / "operator-namespaces.yaml")],
    "cluster-peering": ["-f", str(VALUES / "operator-cluster-peering.yaml")],
}


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    specs = []
    for d in docs:
        spec = {"Pod": lambda d: d["spec"],
                "Deployment": lambda d: d["spec"]["template"]["spec"],
                "StatefulSet": lambda d: d["spec"]["template"]["spec"],
                "Job": lambda d: d["spec"]["template"]["spec"],
                "CronJob": lambda d: d["spec"]["jobTemplate"]["spec"]["template"]["spec"]}.get(d["kind"])
        if spec:
            specs.append((f"{d['kind']}/{d['metadata']['name']}", spec(d)))
    return specs


# --- lint ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", STOREFRONT_VALUE_SETS)
def test_storefront_chart_lints_strict(helm_offline, name):
    check(helm_offline("lint", "--strict", str(CHART), *STOREFRONT_VALUE_SETS[name]))


@pytest.mark.parametrize("name", OPERATOR_VALUE_SETS)
def test_operator_chart_lints_strict(helm_offline, name):
    check(helm_offline("lint", "--strict", str(OPERATOR_CHART), *OPERATOR_VALUE_SETS[name]))


# --- values.schema.json -----------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "components.users.replicas=-1"], "/components/users/replicas"),
    (["--set", "components.billing.replicas=1"], "billing"),
    (["--set", "components.users.replicas=two"], "/components/users/replicas"),
    (["--set", "default.replicas=-1"], "/default/replicas"),
    (["--set", "default.secretName=x"], "/default/secretName"),
    (["--set", "ingress.enabled=yes"], "/ingress/enabled"),
    (["--set", "ingress.className=7"], "/ingress/className"),
    (["--set-json", 'ingress.annotations={"a":{"b":1}}'], "/ingress/annotations"),
    (["--set", "ingress.tlsSecret=x"], "tlsSecret"),
    (["--set", "payments.currency=EUR"], "/payments/currency"),
    (["--set", "payments.platformFeeBps=10001"], "/payments/platformFeeBps"),
    (["--set", "auth.accessTokenTTL=15 minutes"], "/auth/accessTokenTTL"),
    (["--set", "networkPolicy.database.port=70000"], "/networkPolicy/database/port"),
    (["--set", "networkPolicy.ingressController.cidrs[0]=everywhere"], "/networkPolicy/ingressController/cidrs/0"),
    (["--set", "database.caCertificate.configMapName=RDS_CA"], "/database/caCertificate/configMapName"),
    (["--set", "database.caCertificate.key=ca/crt"], "/database/caCertificate/key"),
    (["--set", "database.caCertificate.secretName=x"], "secretName"),
])
def test_storefront_schema_rejects(helm_offline, args, message):
    result = helm_offline("template", "acme", str(CHART), *args)
    assert result.returncode != 0, f"{args} was accepted"
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "replicas=-1"], "/replicas"),
    (["--set", "watch.allNamespaces=maybe"], "/watch/allNamespaces"),
    (["--set", "watch.namespaces[0]=Not_A_Namespace"], "/watch/namespaces/0"),
    (["--set", "rbac.clusterAdmin=true"], "clusterAdmin"),
    (["--set", "replicas=2"], "peering"),  # several standalone operators would all act
])
def test_operator_schema_rejects(helm_offline, args, message):
    result = helm_offline("template", "op", str(OPERATOR_CHART), *args)
    assert result.returncode != 0, f"{args} was accepted"
    assert message in result.stderr, result.stderr


# --- rendered content ---------------------------------------------------------------------


def test_every_service_gets_its_objects(render):
    docs = render(CHART)
    for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"):
        assert {f"acme-{s}" for s in SERVICES} <= set(by_kind(docs, kind)), kind
    assert not by_kind(docs, "HorizontalPodAutoscaler")
    for name, service in by_kind(docs, "Service").items():
        assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_deployment_runs_the_server_with_probes_and_secrets(render):
    docs = render(CHART, "--set", "components.orders.secretName=acme-orders-env")
    deployments = by_kind(docs, "Deployment")
    for service in SERVICES:
        pod = deployments[f"acme-{service}"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["command"] == ["python", "-m", "storefront_common.serve", f"storefront_{service}.wsgi:app"]
        assert container["ports"][0]["containerPort"] == 8080
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert "startupProbe" in container
        env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
        assert env["ENVIRONMENT"] == "production"
        assert env["PROMETHEUS_MULTIPROC_DIR"] == "/var/run/prometheus"
        # orders and carts wait on other services for much of a request: twice the threads
        assert (env["WEB_CONCURRENCY"], env["WEB_THREADS"]) == ("2", "8" if service in ("orders", "carts") else "4")
        called = {callee for component in TOPOLOGY.components for callee in component.calls}
        for other in SERVICES:  # the URL of every component some component calls (web: none calls it)
            assert env.get(f"{other.upper()}_URL") == (f"http://acme-{other}" if other in called else None)
        assert {"JWT_ISSUER", "JWT_AUDIENCE"} <= set(env)
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", "/var/run/prometheus"} <= mounts
        expected_secret = "acme-orders-env" if service == "orders" else f"storefront-{service}"
        assert container["envFrom"][0] == {"secretRef": {"name": expected_secret}}
        assert not any("SECRET" in e["name"] and "value" in e for e in container["env"]), "secrets only by reference"
    users = deployments["acme-users"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in users["env"]}
    assert env["JWT_PRIVATE_KEY"] == "/var/run/secrets/storefront/signing/private.pem"
    assert env["ACCESS_TOKEN_TTL_SECONDS"] == "900" and env["REFRESH_TOKEN_TTL_SECONDS"] == "2592000"
    payments = deployments["acme-payments"]["spec"]["template"]["spec"]["containers"][0]
    key = next(e for e in payments["env"] if e["name"] == "PAYSTACK_SECRET_KEY")
    assert key["valueFrom"] == {"secretKeyRef": {"name": "storefront-paystack", "key": "secretKey"}}


def test_autoscaling_replaces_fixed_replicas(render):
    docs = render(CHART, "--set", "components.products.autoscaling.enabled=true")
    hpa = by_kind(docs, "HorizontalPodAutoscaler")["acme-products"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "acme-products"
    assert "replicas" not in by_kind(docs, "Deployment")["acme-products"]["spec"]
    assert by_kind(docs, "Deployment")["acme-users"]["spec"]["replicas"] == 2


def test_migrations_and_periodic_jobs(render):
    docs = render(CHART)
    jobs = by_kind(docs, "Job")
    for service in SERVICES:
        (job,) = [j for name, j in jobs.items() if name.startswith(f"acme-{service}-migrate-")]
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        command = job["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command == ["flask", "--app", f"storefront_{service}.wsgi", "migrate"]
    cronjobs = by_kind(docs, "CronJob")
    for service, command in ((c.name, command) for c in TOPOLOGY.components for command in c.cron_jobs):
        container = cronjobs[f"acme-{command}"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["flask", "--app", f"storefront_{service}.wsgi", command]
    # A new image means a new migration Job (a Job's pod template is immutable).
    later = by_kind(render(CHART, "--set", "image.tag=0.2.0"), "Job")
    assert set(later).isdisjoint(jobs)


def test_finished_migration_jobs_expire_unless_kept(render):
    """Plain Helm lets a finished Job go after a day; the operator keeps it (null), or it would restore it."""
    ttls = [job["spec"].get("ttlSecondsAfterFinished") for job in by_kind(render(CHART), "Job").values()]
    assert ttls == [86400] * len(SERVICES)
    kept = by_kind(render(CHART, "--set", "workload.migration.ttlSecondsAfterFinished=null"), "Job")
    assert len(kept) == len(SERVICES) and all("ttlSecondsAfterFinished" not in job["spec"] for job in kept.values())


def test_database_ca_bundle_reaches_every_pod_that_connects(render):
    docs = render(CHART, "--set", "database.caCertificate.configMapName=rds-ca-bundle",
                  "--set", "database.caCertificate.key=global-bundle.pem")
    specs = [(where, spec) for where, spec in pod_specs(docs) if where.split("/")[0] in ("Deployment", "Job", "CronJob")]
    assert len(specs) == 3 * len(SERVICES)  # servers, migrations, periodic jobs
    for where, spec in specs:
        volume = {"name": "database-ca", "configMap": {"name": "rds-ca-bundle",
                                                       "items": [{"key": "global-bundle.pem", "path": "global-bundle.pem"}]}}
        assert volume in spec["volumes"], where
        (container,) = spec["containers"]
        mount = {"name": "database-ca", "mountPath": "/etc/storefront/database-ca", "readOnly": True}
        assert mount in container["volumeMounts"], where
        assert {"name": "PGSSLROOTCERT", "value": "/etc/storefront/database-ca/global-bundle.pem"} in container["env"], where
    # Unset (the default): none of it renders.
    for where, spec in pod_specs(render(CHART)):
        assert "database-ca" not in json.dumps(spec) and "PGSSLROOTCERT" not in json.dumps(spec), where


def test_ingress_routes_exactly_the_contract(render):
    docs = render(CHART, "--set", "ingress.host=shop.example.com", "--set", "ingress.className=alb",
                  "--set", "ingress.tls.secretName=shop-tls")
    ingress = by_kind(docs, "Ingress")["acme"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert ingress["spec"]["tls"] == [{"secretName": "shop-tls", "hosts": ["shop.example.com"]}]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "shop.example.com"
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert routes == {path: f"acme-{service}" for path, service in contract_routes().items()}
    assert not any(path.startswith("/internal") for path in routes)


def test_the_topology_python_reads_is_what_the_chart_renders(render):
    """storefront_operator.topology merges default and components as the chart does: same services in the
    same order, routes, threads and CronJobs."""
    docs = render(CHART)
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"] == [f"acme-{s}" for s in SERVICES]
    (rule,) = by_kind(docs, "Ingress")["acme"]["spec"]["rules"]
    assert [(p["path"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]] == \
        [(path, f"acme-{service}") for path, service in TOPOLOGY.routes]
    deployments = by_kind(docs, "Deployment")
    for component in TOPOLOGY.components:
        env = {e["name"]: e.get("value") for e in deployments[f"acme-{component.name}"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["WEB_THREADS"] == str(component.threads), component.name
        cronjobs = [name for name, job in by_kind(docs, "CronJob").items()
                    if job["metadata"]["labels"]["app.kubernetes.io/component"] == component.name]
        assert cronjobs == [f"acme-{command}" for command in component.cron_jobs], component.name
    assert TOPOLOGY.names == tuple(name for name, _ in sorted(
        yaml.safe_load((CHART / "values.yaml").read_text())["components"].items(), key=lambda item: item[1]["order"]))


def test_the_chart_refuses_a_broken_topology(helm_offline):
    for args, message in ((["--set", "components.orders.calls[0]=billing"], 'components.orders.calls names "billing"'),
                          (["--set", "components.orders.order=1"], "order 1 is also")):
        result = helm_offline("template", "acme", str(CHART), *args)
        assert result.returncode != 0 and message in result.stderr, result.stderr


def test_eks_values_use_the_alb_controller(render):
    docs = render(CHART, "-f", str(CHART / "values-eks.yaml"))
    ingress = by_kind(docs, "Ingress")["acme"]
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
    for key in ("listen-ports", "ssl-redirect"):
        assert f"alb.ingress.kubernetes.io/{key}" in annotations
    for service in SERVICES:
        sa = by_kind(docs, "ServiceAccount")[f"acme-{service}"]
        assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    # ALB (target-type ip) reaches the pods from the VPC.
    users_policy = by_kind(docs, "NetworkPolicy")["acme-users"]
    assert {"ipBlock": {"cidr": "10.0.0.0/16", "except": []}} in users_policy["spec"]["ingress"][0]["from"]


def _component(peer: dict) -> str | None:
    return peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")


def test_network_policies_allow_exactly_the_designed_edges(render):
    policies = by_kind(render(CHART), "NetworkPolicy")
    deny = policies["acme-default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny and "egress" not in deny
    expected_egress = {c.name: set(c.calls) for c in TOPOLOGY.components}
    for service in SERVICES:
        spec = policies[f"acme-{service}"]["spec"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == service
        egress_services = {_component(p) for rule in spec["egress"] for p in rule.get("to", []) if _component(p)}
        assert egress_services == expected_egress[service], service
        callers = {_component(p) for rule in spec["ingress"] for p in rule["from"]
                   if _component(p) and "storefront.dev/workload" not in p["podSelector"]["matchLabels"]}
        assert callers == {s for s, targets in expected_egress.items() if service in targets}, service
        assert all(rule.get("from") for rule in spec["ingress"]), "an ingress rule without peers allows everyone"
        assert all(rule.get("to") for rule in spec["egress"]), "an egress rule without peers allows everything"
        ports = [(p["protocol"], p["port"]) for rule in spec["egress"] for p in rule["ports"]]
        assert ("UDP", 53) in ports and ("TCP", 53) in ports  # DNS
        assert ("TCP", 5432) in ports  # its database
        assert (("TCP", 443) in ports) == (service == "payments")  # only payments talks to Paystack
    paystack = next(rule for rule in policies["acme-payments"]["spec"]["egress"] if rule["ports"][0]["port"] == 443)
    block = paystack["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0" and "10.0.0.0/8" in block["except"]


def test_database_egress_is_configurable(render):
    selector = '{"matchLabels":{"app":"pg"}}'
    docs = render(CHART, "--set-json", f"networkPolicy.database.podSelector={selector}",
                  "--set-json", "networkPolicy.database.cidrs=[]")
    rule = next(r for r in by_kind(docs, "NetworkPolicy")["acme-orders"]["spec"]["egress"] if r["ports"][0]["port"] == 5432)
    assert rule["to"] == [{"podSelector": {"matchLabels": {"app": "pg"}}}]


def test_pods_meet_the_restricted_standard_in_every_value_set(render):
    for name, args in STOREFRONT_VALUE_SETS.items():
        for where, spec in pod_specs(render(CHART, *args)):
            assert spec["securityContext"]["runAsNonRoot"] is True, where
            assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
            assert spec.get("automountServiceAccountToken") is False, where
            for container in spec["containers"]:
                context = container["securityContext"]
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["capabilities"]["drop"] == ["ALL"], where
                if name != "dev":
                    assert context["readOnlyRootFilesystem"] is True, where
                assert "resources" in container, where


def test_helm_test_pod_checks_every_readyz(render):
    pod = by_kind(render(CHART), "Pod")["acme-test-readyz"]
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    args = pod["spec"]["containers"][0]["command"]
    assert args[:2] == ["python", "-c"]
    assert args[3:] == [f"http://acme-{s}/readyz" for s in SERVICES]


def test_development_values_bring_their_own_database_and_simulator(render):
    docs = render(CHART, "-f", str(CHART / "values-dev.yaml"))
    assert "acme-postgresql" in by_kind(docs, "StatefulSet")
    assert "acme-paystack-sim" in by_kind(docs, "Deployment")
    secrets = by_kind(docs, "Secret")
    assert set(secrets["storefront-users"]["stringData"]) == {"DATABASE_URL", "SERVICE_CLIENT_SECRET", "SERVICE_CLIENTS"}
    assert secrets["storefront-orders"]["stringData"]["DATABASE_URL"].endswith("@acme-postgresql:5432/storefront_orders")
    payments = by_kind(docs, "Deployment")["acme-payments"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "PAYSTACK_BASE_URL", "value": "http://acme-paystack-sim/_paystack"} in payments["env"]
    # Browsers reach the simulator's checkout pages through the Ingress, under the same path.
    [rule] = by_kind(docs, "Ingress")["acme"]["spec"]["rules"]
    assert rule["host"] == "localhost"
    paths = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert paths["/_paystack"] == "acme-paystack-sim"
    simulator = by_kind(docs, "Deployment")["acme-paystack-sim"]["spec"]["template"]["spec"]["containers"][0]
    assert {"--mount-path=/_paystack", "--public-url=http://localhost:8080/_paystack"} <= set(simulator["command"])
    assert not any("helm.sh/hook" in (j["metadata"].get("annotations") or {}) for j in by_kind(docs, "Job").values())
    # Off by default.
    defaults = render(CHART)
    assert not by_kind(defaults, "StatefulSet") and not by_kind(defaults, "Secret")


# --- server-side dry run, restricted namespace --------------------------------------------


def dry_run(kubectl, namespace: str | None, docs_text: str) -> None:
    scope = ["-n", namespace] if namespace else []
    result = kubectl("apply", "--dry-run=server", *scope, "-f", "-", input=docs_text)
    check(result)
    assert "would violate PodSecurity" not in result.stderr, result.stderr


@pytest.mark.parametrize("name", STOREFRONT_VALUE_SETS)
def test_storefront_chart_dry_runs_in_a_restricted_namespace(helm, kubectl, namespace, name):
    ns = namespace(f"dry-{name}")
    rendered = check(helm("template", "acme", str(CHART), "--namespace", ns, *STOREFRONT_VALUE_SETS[name]))
    dry_run(kubectl, ns, rendered)


@pytest.mark.parametrize("name", OPERATOR_VALUE_SETS)
def test_operator_chart_dry_runs_in_a_restricted_namespace(helm, kubectl, namespace, storefront_crd, name):
    ns = namespace(f"operator-{name}")
    for watched in ("shop-a", "shop-b"):
        namespace(watched)
    rendered = check(helm("template", "op", str(OPERATOR_CHART), "--namespace", ns, *OPERATOR_VALUE_SETS[name]))
    dry_run(kubectl, None, rendered)  # every namespaced object names its namespace (Roles live in the watched ones)


def test_operator_deployment_options(render):
    standalone = by_kind(render(OPERATOR_CHART, release="op", namespace="sys"), "Deployment")["op-storefront-operator"]
    command = standalone["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:3] == ["kopf", "run", "--module=storefront_operator"]
    assert "--standalone" in command and "--namespace=sys" in command
    assert standalone["spec"]["strategy"]["type"] == "Recreate"
    docs = render(OPERATOR_CHART, "-f", str(VALUES / "operator-cluster-peering.yaml"), release="op", namespace="sys")
    command = by_kind(docs, "Deployment")["op-storefront-operator"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert "--peering=storefront" in command and "--all-namespaces" in command and "--standalone" not in command
    assert "storefront" in by_kind(docs, "ClusterKopfPeering")
    docs = render(OPERATOR_CHART, "-f", str(VALUES / "operator-namespaces.yaml"), "--set", "peering.enabled=true",
                  release="op", namespace="sys")
    assert {d["metadata"]["namespace"] for d in docs if d["kind"] == "KopfPeering"} == {"shop-a", "shop-b"}


def test_operator_chart_installs_the_kopf_peering_crds():
    names = {re.search(r"name: (\S+)", doc).group(1)
             for doc in (OPERATOR_CHART / "crds" / "kopf-peering.yaml").read_text().split("\n---\n")}
    assert names == {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"}


def test_no_wildcards_in_operator_rbac(render):
    for args in OPERATOR_VALUE_SETS.values():
        for doc in render(OPERATOR_CHART, *args, release="op", namespace="sys"):
            for rule in doc.get("rules", []):
                assert "*" not in json.dumps(rule), rule
