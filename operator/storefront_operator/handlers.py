"""kopf wiring: which events reconcile a Storefront, and how failures turn into retries with backoff.

- create / update / resume: a full reconcile; a failed step raises TemporaryError (exponential backoff).
- timer: the same full reconcile as a drift check; it writes nothing when nothing drifted.
- events of labelled children (Deployments, StatefulSets, Secrets, Services, Ingresses): reconcile the owner.
- delete: the finalizer (databases dropped only with deletionPolicy Delete).
- peering (several replicas): the oldest replica works, the others wait (see `peering_priority`).
"""
from __future__ import annotations

import logging
import time
from typing import Any

import kopf

from .reconcile import OperatorContext, Reconciler, ReconcileResult
from .settings import FINALIZER, GROUP, INSTANCE_LABEL, KOPF_ANNOTATION_PREFIX, PLURAL, VERSION, OperatorSettings, \
    retry_delay_seconds

# Read at import for the timer's interval; configure() reads the environment again at startup,
# after `storefront_operator.dev` has filled it in.
operator_settings = OperatorSettings()

CHILD_RESOURCES: tuple[tuple[str, str, str], ...] = (
    ("apps", "v1", "deployments"),
    ("apps", "v1", "statefulsets"),
    ("", "v1", "secrets"),
    ("", "v1", "services"),
    ("networking.k8s.io", "v1", "ingresses"),
)


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_ANNOTATION_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_ANNOTATION_PREFIX, key="last-handled-configuration")
    # kopf would post an Event for every handler run (timers included): writes while idle. The
    # operator records its own Events, one per condition transition.
    settings.posting.enabled = False
    current = OperatorSettings()
    settings.execution.max_workers = current.worker_threads
    # Named namespaces under Roles only: nothing to discover, and no right to list namespaces or CRDs
    # (kopf would retry that for about a minute at every start before falling back to the names).
    if current.namespaces and not any(set(namespace) & set("*?[") for namespace in current.namespaces):
        settings.scanning.disabled = True
    settings.watching.server_timeout = 600
    # Filter children on the API server: without it every Secret of the cluster would stream in.
    for group, version, plural in CHILD_RESOURCES:
        settings.watching.label_selectors[group, version, plural] = INSTANCE_LABEL
    if settings.peering.priority == 0:  # not chosen with `kopf run --priority`
        settings.peering.priority = peering_priority(time.time_ns())
    memo.reconciler = Reconciler(OperatorContext.create(current))
    logger.info("chart %s, helm %s", current.chart_dir, current.helm_binary)


def peering_priority(started_ns: int) -> int:
    """Earlier starts rank higher, so the replica already working keeps working and the others wait.

    kopf pauses every operator of a peering that sees a live peer of the same priority, so replicas that
    all kept the default priority would all stand still. Microseconds keep two replicas apart.
    """
    return -(started_ns // 1_000)


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return kopf.login_via_client(**kwargs)


def raise_for_retry(result: ReconcileResult, retry: int, memo: kopf.Memo) -> None:
    if result.failures:
        delay = retry_delay_seconds(retry, memo.reconciler.context.settings.retry_backoff_max_seconds)
        raise kopf.TemporaryError(result.summary, delay=delay)


@kopf.on.resume(GROUP, VERSION, PLURAL, id="reconcile-on-resume")
@kopf.on.create(GROUP, VERSION, PLURAL, id="reconcile-on-create")
@kopf.on.update(GROUP, VERSION, PLURAL, id="reconcile-on-update")
def reconcile_storefront(namespace: str, name: str, retry: int, memo: kopf.Memo, **_: Any) -> None:
    raise_for_retry(memo.reconciler.reconcile(namespace, name), retry, memo)


@kopf.timer(GROUP, VERSION, PLURAL, interval=operator_settings.drift_check_interval_seconds,
            initial_delay=operator_settings.drift_check_interval_seconds)
def check_drift(namespace: str, name: str, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    result = memo.reconciler.reconcile(namespace, name)
    if result.failures:
        logger.warning("drift check: %s", result.summary)


def on_child_event(event: dict[str, Any], body: kopf.Body, namespace: str, memo: kopf.Memo, **_: Any) -> None:
    if event.get("type") is None:
        return  # the initial listing at startup: resume handlers cover it
    metadata = body.get("metadata", {})
    kube = memo.reconciler.context.kube
    if event["type"] != "DELETED" and kube.is_own_write(body.get("kind", ""), namespace, metadata.get("name", ""),
                                                        str(metadata.get("resourceVersion", ""))):
        return  # the echo of our own apply
    owner = owning_storefront(body)
    if owner:
        memo.reconciler.request(namespace, owner)


def owning_storefront(body: kopf.Body) -> str | None:
    for reference in body.get("metadata", {}).get("ownerReferences") or []:
        if reference.get("kind") == "Storefront" and str(reference.get("apiVersion", "")).startswith(f"{GROUP}/"):
            return str(reference["name"])
    return None


for _group, _version, _plural in CHILD_RESOURCES:
    kopf.on.event(_group, _version, _plural, labels={INSTANCE_LABEL: kopf.PRESENT},
                  id=f"child-{_plural}")(on_child_event)


@kopf.on.delete(GROUP, VERSION, PLURAL, id="finalize")
def finalize_storefront(namespace: str, name: str, retry: int, memo: kopf.Memo, **_: Any) -> None:
    raise_for_retry(memo.reconciler.finalize(namespace, name, retry), retry, memo)
