"""The reconcile of one Storefront, in order: secrets -> databases -> workloads -> status.

One Storefront is reconciled by one thread at a time. Requests from child watches arriving while
a reconcile runs are folded into one more pass afterwards, so a burst of child events costs one
reconcile, not one each.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import databases, naming, secrets, status, workloads
from .conditions import DATABASES_READY, SECRETS_READY, WORKLOADS_READY, StepOutcome
from .kube import PERSISTENT_VOLUME_CLAIM, STOREFRONT, EventRecorder, Kube, KubeError, Object
from .settings import OperatorSettings
from .spec import StorefrontSpec

logger = logging.getLogger("storefront_operator")
FINALIZER_ATTEMPTS = 10
WAITING_REASONS = ("ReplicasNotReady", "EmbeddedServerNotReady", "Blocked")

Key = tuple[str, str]


@dataclass
class ReconcileResult:
    outcomes: dict[str, StepOutcome] = field(default_factory=dict)
    skipped: str = ""  # why nothing was done (gone, deleting, paused)

    @property
    def failures(self) -> list[StepOutcome]:
        return [outcome for outcome in self.outcomes.values() if outcome.failed]

    @property
    def summary(self) -> str:
        return "; ".join(f"{item.condition_type} {item.reason}: {item.message}" for item in self.failures)


@dataclass
class OperatorContext:
    kube: Kube
    events: EventRecorder
    renderer: workloads.ChartRenderer
    settings: OperatorSettings

    @classmethod
    def create(cls, settings: OperatorSettings, kubeconfig: str | None = None) -> OperatorContext:
        kube = Kube.from_environment(kubeconfig)
        return cls(kube, EventRecorder(kube), workloads.ChartRenderer(settings.helm_binary, settings.chart_dir), settings)


class Reconciler:
    def __init__(self, context: OperatorContext) -> None:
        self.context = context
        self._guard = threading.Lock()
        self._locks: dict[Key, threading.Lock] = {}
        self._pending: set[Key] = set()

    def _lock_for(self, key: Key) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def reconcile(self, namespace: str, name: str) -> ReconcileResult:
        """A full reconcile (databases included), waiting for any running one; for spec changes and timers."""
        key = (namespace, name)
        with self._lock_for(key):
            with self._guard:
                self._pending.discard(key)
            result = self._reconcile_once(namespace, name, check_databases=True)
        self._drain(key)
        return result

    def request(self, namespace: str, name: str) -> None:
        """A child changed: reconcile soon, skipping an external database server (children do not live there)."""
        key = (namespace, name)
        with self._guard:
            self._pending.add(key)
        self._drain(key)

    def _drain(self, key: Key) -> None:
        lock = self._lock_for(key)
        while True:
            if not lock.acquire(blocking=False):
                return  # the holder drains what we added
            try:
                while True:
                    with self._guard:
                        if key not in self._pending:
                            break
                        self._pending.discard(key)
                    self._reconcile_quietly(*key)
            finally:
                lock.release()
            with self._guard:
                if key not in self._pending:
                    return

    def _reconcile_quietly(self, namespace: str, name: str) -> None:
        try:
            self._reconcile_once(namespace, name, check_databases=False)
        except Exception:  # a child-triggered pass must never take the watch down; the timer retries
            logger.exception("reconcile of %s/%s after a child change failed", namespace, name)

    def _reconcile_once(self, namespace: str, name: str, check_databases: bool) -> ReconcileResult:
        started = time.monotonic()
        result = self._reconcile_steps(namespace, name, check_databases)
        logger.debug("reconciled %s/%s in %.2fs (databases %s)%s", namespace, name, time.monotonic() - started,
                     "checked" if check_databases else "skipped", f", skipped: {result.skipped}" if result.skipped else "")
        return result

    def _reconcile_steps(self, namespace: str, name: str, check_databases: bool) -> ReconcileResult:
        context = self.context
        storefront = context.kube.get(STOREFRONT, namespace, name)
        if storefront is None:
            return ReconcileResult(skipped="gone")
        if storefront["metadata"].get("deletionTimestamp"):
            return ReconcileResult(skipped="deleting")
        spec = StorefrontSpec.from_object(storefront)
        if spec.paused:
            return ReconcileResult(skipped="paused")
        current_status: dict[str, Any] = storefront.get("status") or {}

        timings = [time.monotonic()]
        secrets_outcome, provisioned = self._secrets_step(storefront, spec)
        timings.append(time.monotonic())
        databases_outcome = self._databases_step(spec, provisioned, current_status, check_databases)
        timings.append(time.monotonic())
        outcomes = {SECRETS_READY: secrets_outcome, DATABASES_READY: databases_outcome}
        services = None
        if workloads_may_run(spec, current_status, provisioned, databases_outcome):
            outcomes[WORKLOADS_READY], services = self._workloads_step(spec, provisioned)
        else:
            outcomes[WORKLOADS_READY] = StepOutcome.waiting(
                WORKLOADS_READY, "Blocked", "waiting for the Secrets and databases before creating workloads")
        timings.append(time.monotonic())
        logger.debug("%s/%s steps: secrets %.2fs, databases %.2fs, workloads %.2fs", namespace, name,
                     *(later - earlier for earlier, later in zip(timings, timings[1:])))

        desired = status.desired_status(spec, current_status, outcomes, provisioned if provisioned.complete else None,
                                        services)
        try:
            status.update_status(context.kube, context.events, storefront, desired)
        except KubeError as error:
            if error.status != 404:
                raise
        return ReconcileResult(outcomes)

    def _secrets_step(self, storefront: Object, spec: StorefrontSpec) -> tuple[StepOutcome, secrets.ProvisionedSecrets]:
        try:
            return secrets.ensure_secrets(self.context.kube, storefront, spec)
        except Exception as error:
            return unexpected(SECRETS_READY, spec, error), secrets.ProvisionedSecrets()

    def _databases_step(self, spec: StorefrontSpec, provisioned: secrets.ProvisionedSecrets,
                        current_status: dict[str, Any], check_databases: bool) -> StepOutcome:
        if not provisioned.complete:  # the passwords live in those Secrets
            return StepOutcome.waiting(DATABASES_READY, "Blocked", "waiting for the Secrets before provisioning databases")
        stored = stored_outcome(current_status, DATABASES_READY, spec.generation)
        # An embedded server is itself a child (its StatefulSet's events bring us here) and is checked
        # by reading that StatefulSet: cheap. An external server is only checked on full passes.
        if stored is not None and not check_databases and spec.embedded_database is None:
            return stored
        settings = self.context.settings
        try:
            return databases.ensure_databases(self.context.kube, spec, provisioned,
                                              settings.database_connect_timeout_seconds, settings.database_ssl_root_cert)
        except Exception as error:
            return unexpected(DATABASES_READY, spec, error)

    def _workloads_step(self, spec: StorefrontSpec, provisioned: secrets.ProvisionedSecrets
                        ) -> tuple[StepOutcome, dict[str, workloads.ServiceState] | None]:
        try:
            result = workloads.ensure_workloads(self.context.kube, self.context.renderer, spec, provisioned)
        except Exception as error:
            return unexpected(WORKLOADS_READY, spec, error), None
        return result.outcome, result.services or None

    def finalize(self, namespace: str, name: str, retry: int = 0) -> ReconcileResult:
        """The finalizer: drop databases and roles under deletionPolicy Delete; Retain keeps them.

        Dropping keeps being retried, but not forever: after FINALIZER_ATTEMPTS the Storefront goes
        and a Warning Event names what was left behind (a namespace being deleted may have taken the
        admin Secret first; leaking a database beats blocking the deletion for good)."""
        key = (namespace, name)
        with self._lock_for(key):
            storefront = self.context.kube.get(STOREFRONT, namespace, name)
            if storefront is None:
                return ReconcileResult(skipped="gone")
            spec = StorefrontSpec.from_object(storefront)
            if spec.paused:
                outcome = StepOutcome.failure(DATABASES_READY, "Paused",
                                              "deletion waits: spec.paused is true, so nothing may change")
                return ReconcileResult({DATABASES_READY: outcome})
            outcome = self._release_databases(spec)
            if outcome.failed and retry + 1 >= FINALIZER_ATTEMPTS:
                self.context.events.record(storefront, "Warning", "DatabasesNotDropped",
                                           f"gave up after {retry + 1} attempts, databases and roles "
                                           f"{spec.name}_* stay on the server: {outcome.message}")
                outcome = StepOutcome.waiting(DATABASES_READY, "DatabasesNotDropped", outcome.message)
            current_status = storefront.get("status") or {}
            desired = status.desired_status(spec, current_status, {DATABASES_READY: outcome}, None, None,
                                            deleting=True)
            try:
                status.update_status(self.context.kube, self.context.events, storefront, desired)
            except KubeError as error:
                if error.status != 404:
                    raise
            return ReconcileResult({DATABASES_READY: outcome})

    def _release_databases(self, spec: StorefrontSpec) -> StepOutcome:
        if spec.deletion_policy != "Delete":
            return StepOutcome.waiting(DATABASES_READY, "Retained",
                                       f"deletionPolicy {spec.deletion_policy}: databases and roles are kept")
        if spec.server is None:
            # The StatefulSet goes with its owner, but its volume claim would outlive it.
            claim = naming.embedded_volume_claim(spec.name)
            try:
                self.context.kube.delete(PERSISTENT_VOLUME_CLAIM, spec.namespace, claim)
            except KubeError as error:
                return StepOutcome.failure(DATABASES_READY, "KubernetesError", f"deleting {claim}: {error}")
            return StepOutcome.waiting(DATABASES_READY, "Dropped",
                                       f"deletionPolicy Delete: volume claim {claim} of the embedded server deleted")
        settings = self.context.settings
        try:
            dropped = databases.drop_databases(self.context.kube, spec, settings.database_connect_timeout_seconds,
                                               settings.database_ssl_root_cert)
        except databases.DatabaseProblem as problem:
            return StepOutcome.failure(DATABASES_READY, problem.reason, problem.message)
        except databases.psycopg2.OperationalError as error:
            return StepOutcome.failure(DATABASES_READY, *databases.classify_connection_error(spec, error))
        except databases.psycopg2.Error as error:
            return StepOutcome.failure(DATABASES_READY, "DropFailed", databases.first_line(error))
        return StepOutcome.waiting(DATABASES_READY, "Dropped",
                                   f"deletionPolicy Delete: {dropped} databases and their roles dropped")


def unexpected(condition_type: str, spec: StorefrontSpec, error: Exception) -> StepOutcome:
    """A bug or a surprise: logged with its traceback, reported as a condition, retried like any failure."""
    logger.exception("%s of %s/%s failed unexpectedly", condition_type, spec.namespace, spec.name)
    return StepOutcome.failure(condition_type, "InternalError", f"{type(error).__name__}: {error}"[:500])


def stored_outcome(current_status: dict[str, Any], condition_type: str, generation: int) -> StepOutcome | None:
    """The outcome a condition on the status records, if it is about the current generation."""
    for item in current_status.get("conditions") or []:
        if item.get("type") == condition_type and item.get("observedGeneration") == generation \
                and item.get("reason") != "Blocked":
            ready = item.get("status") == "True"
            reason = str(item.get("reason", ""))
            return StepOutcome(condition_type, ready, reason, str(item.get("message", "")),
                               failed=not ready and reason not in WAITING_REASONS)
    return None


def workloads_may_run(spec: StorefrontSpec, current_status: dict[str, Any], provisioned: secrets.ProvisionedSecrets,
                      databases_outcome: StepOutcome) -> bool:
    """Workloads need their Secrets; the first time also their databases (migrations would fail without).
    Once created they keep being repaired even while the database server is away."""
    if not provisioned.complete:
        return False
    if databases_outcome.ready or spec.embedded_database is not None:
        return True
    for item in current_status.get("conditions") or []:
        if item.get("type") == WORKLOADS_READY and item.get("reason") != "Blocked":
            return True
    return False

