"""Step 3: the services' workloads, rendered from charts/storefront and server-side applied.

`helm template` renders the chart with values derived from the spec and the provisioned Secret
names. Each rendered object is claimed (labels, owner reference, content hash) and applied only
when it differs from what is live; objects of this Storefront the render no longer contains are
deleted. The chart stays the single description of the workloads, usable with `helm install` too.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .apply import apply_changed, claim, foreign_controller
from .conditions import WORKLOADS_READY, StepOutcome
from .kube import CHART_KINDS, DEPLOYMENT, Kube, KubeError, Object, ResourceKind, kind_of
from .secrets import ProvisionedSecrets
from .settings import INSTANCE_LABEL, PART_LABEL
from .signing_keys import PREVIOUS_JWKS_FILE, PRIVATE_KEY_FILE
from .spec import StorefrontSpec

PART = "workloads"
SIGNING_KID_ANNOTATION = "storefront.dev/signing-kid"
ENVIRONMENT_DIGEST_ANNOTATION = "storefront.dev/secrets-digest"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RenderError(Exception):
    pass


@dataclass
class ServiceState:
    replicas: int
    ready_replicas: int
    image: str
    rolled_out: bool

    def as_status(self) -> dict[str, Any]:
        return {"replicas": self.replicas, "readyReplicas": self.ready_replicas, "image": self.image}


@dataclass
class WorkloadsResult:
    outcome: StepOutcome
    services: dict[str, ServiceState] = field(default_factory=dict)
    written: int = 0


def chart_values(spec: StorefrontSpec, provisioned: ProvisionedSecrets) -> dict[str, Any]:
    paystack_ref = spec.paystack_secret_ref or ("", "")
    values: dict[str, Any] = {
        "fullnameOverride": spec.name,
        "image": {"registry": str(spec.raw["imageRegistry"]), "tag": str(spec.raw["version"])},
        "jwt": {"issuer": spec.issuer},
        "publicURL": spec.url,
        "auth": {
            "accessTokenTTL": spec.access_token_ttl,
            "refreshTokenTTL": spec.refresh_token_ttl,
            "signingKey": {"secretName": provisioned.signing_key_secret, "privateKeyKey": PRIVATE_KEY_FILE,
                           "previousPublicKeysKey": PREVIOUS_JWKS_FILE},
        },
        "payments": {
            "currency": str(spec.payments.get("currency") or "NGN"),
            "platformFeeBps": int(spec.payments.get("platformFeeBps") or 0),
            "paystack": {"baseURL": str(spec.paystack.get("baseURL") or "https://api.paystack.co"),
                         "secretKeyRef": {"name": paystack_ref[0], "key": paystack_ref[1]}},
        },
        "components": {service: service_values(spec, provisioned, service) for service in spec.services},
        "ingress": ingress_values(spec),
        # The operator applies everything itself; Helm hook annotations would mean nothing here. A finished
        # migration Job is kept: one deleted by its TTL would be restored (and run again) as drift.
        "workload": {"migration": {"asHook": False, "ttlSecondsAfterFinished": None}},
    }
    ca = spec.server.ca_certificate if spec.server else None
    if ca is not None:
        values["database"] = {"caCertificate": {"configMapName": ca.config_map_name, "key": ca.key}}
    embedded = spec.embedded_database
    if embedded is not None:
        values["postgresql"] = {
            "enabled": True,
            "storageSize": str(embedded.get("storageSize") or "10Gi"),
            "storageClassName": str(embedded.get("storageClassName") or ""),
            "auth": {"secretName": provisioned.embedded_admin_secret},
        }
        if embedded.get("image"):
            values["postgresql"]["image"] = str(embedded["image"])
    if spec.paystack_simulator_image:
        values["paystackSimulator"] = {"enabled": True, "image": spec.paystack_simulator_image}
    return values


def service_values(spec: StorefrontSpec, provisioned: ProvisionedSecrets, service: str) -> dict[str, Any]:
    wanted = spec.service(service)
    values: dict[str, Any] = {
        "secretName": provisioned.database_secrets[service],
        "extraSecretNames": [provisioned.client_secrets[service]],
    }
    if service == "users":
        values["extraSecretNames"].append(provisioned.admin_account_secret)
    if "replicas" in wanted:
        values["replicas"] = int(wanted["replicas"])
    if wanted.get("image"):
        values["image"] = str(wanted["image"])
    if wanted.get("resources"):
        values["resources"] = wanted["resources"]
    autoscaling = wanted.get("autoscaling")
    values["autoscaling"] = {"enabled": False} if not autoscaling else {
        "enabled": True,
        "minReplicas": int(autoscaling.get("minReplicas", 1)),
        "maxReplicas": int(autoscaling["maxReplicas"]),
        "targetCPUUtilizationPercentage": int(autoscaling.get("targetCPUUtilizationPercentage", 70)),
    }
    # Pods read their Secrets at start: a changed password or client secret must roll them.
    values["podAnnotations"] = {ENVIRONMENT_DIGEST_ANNOTATION: provisioned.environment_digests.get(service, "")}
    if service == "users":
        # A new kid changes the pod template: the users pods restart onto a rotated key.
        values["podAnnotations"][SIGNING_KID_ANNOTATION] = provisioned.active_kid
    return values


def ingress_values(spec: StorefrontSpec) -> dict[str, Any]:
    ingress = spec.ingress
    tls = ingress.get("tls") or {}
    return {
        "enabled": bool(ingress),
        "host": spec.ingress_host,
        "className": str(ingress.get("className") or ""),
        "annotations": dict(ingress.get("annotations") or {}),
        "tls": {"secretName": str(tls.get("secretName") or "")},
    }


class ChartRenderer:
    """`helm template`, memoised by values and chart content: an idle operator does not re-run helm."""

    def __init__(self, helm_binary: str, chart_dir: Path) -> None:
        self._helm_binary = helm_binary
        self._chart_dir = chart_dir
        self._cache: dict[str, list[Object]] = {}
        self._lock = threading.Lock()

    def chart_fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self._chart_dir.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()

    def render(self, release: str, namespace: str, values: dict[str, Any]) -> list[Object]:
        values_json = json.dumps(values, sort_keys=True)
        key = hashlib.sha256(f"{release}\0{namespace}\0{values_json}\0{self.chart_fingerprint()}".encode()).hexdigest()
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = self._run_helm(release, namespace, values_json)
            with self._lock:
                if len(self._cache) > 256:
                    self._cache.clear()
                self._cache[key] = cached
        return json.loads(json.dumps(cached))  # callers mutate what they get

    def _run_helm(self, release: str, namespace: str, values_json: str) -> list[Object]:
        command = [self._helm_binary, "template", release, str(self._chart_dir), "--namespace", namespace,
                   "--skip-tests", "--values", "-"]
        try:
            result = subprocess.run(command, input=values_json, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RenderError(f"helm template could not run: {error}") from None
        if result.returncode != 0:
            raise RenderError(f"helm template failed: {result.stderr.strip()[-800:]}")
        return [doc for doc in yaml.load_all(result.stdout, Loader=_Loader) if isinstance(doc, dict) and doc]


def ensure_workloads(kube: Kube, renderer: ChartRenderer, spec: StorefrontSpec,
                     provisioned: ProvisionedSecrets) -> WorkloadsResult:
    try:
        rendered = renderer.render(spec.name, spec.namespace, chart_values(spec, provisioned))
        desired = [(kind_for(obj), claim(managed_by_operator(obj), spec, PART)) for obj in rendered]
        live = live_objects(kube, spec)
        written = apply_desired(kube, spec, desired, live)
        pruned = prune(kube, spec, desired, live)
    except RenderError as error:
        return WorkloadsResult(StepOutcome.failure(WORKLOADS_READY, "RenderFailed", str(error)))
    except KubeError as error:
        return WorkloadsResult(StepOutcome.failure(WORKLOADS_READY, "ApplyFailed", str(error)))
    deployments = [obj for kind, obj in desired if kind is DEPLOYMENT]
    services = service_states(kube, spec, deployments, live)
    return WorkloadsResult(readiness(services), services, written + pruned)


def managed_by_operator(obj: Object) -> Object:
    """`helm template` labels objects managed-by Helm; here the operator manages them (selectors do not
    use this label, so changing it is safe)."""
    labels = obj.setdefault("metadata", {}).setdefault("labels", {})
    if "app.kubernetes.io/managed-by" in labels:
        labels["app.kubernetes.io/managed-by"] = "storefront-operator"
    return obj


def kind_for(obj: Object) -> ResourceKind:
    kind = kind_of(obj)
    if kind is None:
        raise RenderError(f"the chart rendered {obj.get('apiVersion')}/{obj.get('kind')}, which the operator "
                          "does not manage (add it to kube.CHART_KINDS)")
    return kind


Key = tuple[str, str]  # (kind, name)


def live_objects(kube: Kube, spec: StorefrontSpec) -> dict[Key, Object]:
    selector = f"{INSTANCE_LABEL}={spec.name},{PART_LABEL}={PART}"
    live: dict[Key, Object] = {}
    for kind in CHART_KINDS:
        for obj in kube.list(kind, spec.namespace, selector):
            live[(kind.kind, obj["metadata"]["name"])] = obj
    return live


def apply_desired(kube: Kube, spec: StorefrontSpec, desired: list[tuple[ResourceKind, Object]],
                  live: dict[Key, Object]) -> int:
    written = 0
    for kind, obj in desired:
        key = (kind.kind, obj["metadata"]["name"])
        # An unlabelled object of the same name is taken over, unless another controller owns it: the API
        # server then refuses our controller reference, and the condition says so.
        current = live.get(key)
        try:
            result = apply_changed(kube, kind, obj, current)
        except KubeError as error:
            if not (kind.kind == "Job" and error.status == 422 and current is not None):
                raise
            # A Job's pod template is immutable: replace the Job (migrations are idempotent, it reruns).
            kube.delete(kind, spec.namespace, obj["metadata"]["name"], uid=current["metadata"].get("uid"))
            result = kube.apply(kind, obj)
        if result is not None:
            live[key] = result
            written += 1
    return written


def prune(kube: Kube, spec: StorefrontSpec, desired: list[tuple[ResourceKind, Object]],
          live: dict[Key, Object]) -> int:
    wanted = {(kind.kind, obj["metadata"]["name"]) for kind, obj in desired}
    kinds = {kind.kind: kind for kind in CHART_KINDS}
    pruned = 0
    for (kind_name, name), obj in list(live.items()):
        if (kind_name, name) in wanted or foreign_controller(obj, spec):
            continue
        kube.delete(kinds[kind_name], spec.namespace, name, uid=obj["metadata"].get("uid"))
        del live[(kind_name, name)]
        pruned += 1
    return pruned


def service_states(kube: Kube, spec: StorefrontSpec, deployments: list[Object],
                   live: dict[Key, Object]) -> dict[str, ServiceState]:
    states: dict[str, ServiceState] = {}
    for desired in deployments:
        service = desired["metadata"]["labels"].get("app.kubernetes.io/component", desired["metadata"]["name"])
        current = live.get(("Deployment", desired["metadata"]["name"])) or {}
        states[service] = deployment_state(current)
    return states


def deployment_state(deployment: Object) -> ServiceState:
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    replicas = int(spec.get("replicas", 1))
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
    observed = int(status.get("observedGeneration") or 0) >= int(deployment.get("metadata", {}).get("generation") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    ready = int(status.get("readyReplicas") or 0)
    # As `kubectl rollout status` decides: every replica runs the current template and is available, and
    # no old one is left. readyReplicas alone counts an old pod that still serves beside a new, unready one.
    rolled_out = (observed and updated >= replicas and int(status.get("replicas") or 0) <= updated
                  and int(status.get("availableReplicas") or 0) >= updated)
    return ServiceState(replicas, ready, str(containers[0].get("image", "")), rolled_out)


def readiness(services: dict[str, ServiceState]) -> StepOutcome:
    waiting = [f"{name} {state.ready_replicas}/{state.replicas}" for name, state in services.items()
               if not state.rolled_out]
    if waiting:
        return StepOutcome.waiting(WORKLOADS_READY, "ReplicasNotReady",
                                   f"replicas not ready: {', '.join(waiting)}")
    return StepOutcome.success(WORKLOADS_READY, "Available", f"all {len(services)} services have their replicas ready")
