"""Step 4: the Storefront's status: conditions, phase, per-service readiness, URL, Events.

The status is computed whole from the step outcomes, compared with what is stored, and patched
only when it differs. A condition's lastTransitionTime moves only when its status changes, and
every transition is also recorded as a Kubernetes Event.
"""
from __future__ import annotations

from typing import Any

from . import naming
from .conditions import READY, STEP_CONDITIONS, StepOutcome
from .kube import EventRecorder, Kube, Object, now_rfc3339
from .secrets import ProvisionedSecrets
from .spec import StorefrontSpec
from .workloads import ServiceState

# Pending is what a Storefront without status is in: the operator writes a status only once it has
# run the steps (a paused Storefront gets none).
PHASES = ("Pending", "Provisioning", "Ready", "Degraded", "Deleting")


def ready_outcome(outcomes: dict[str, StepOutcome]) -> StepOutcome:
    not_ready = [outcome for outcome in outcomes.values() if not outcome.ready]
    if not not_ready:
        return StepOutcome.success(READY, "Ready", "every step is ready")
    first = not_ready[0]
    return StepOutcome(READY, False, first.reason, f"{first.condition_type}: {first.message}", first.failed)


def phase_for(outcomes: dict[str, StepOutcome], deleting: bool = False) -> str:
    if deleting:
        return "Deleting"
    if all(outcome.ready for outcome in outcomes.values()):
        return "Ready"
    if any(outcome.failed for outcome in outcomes.values()):
        return "Degraded"
    return "Provisioning"


def condition(outcome: StepOutcome, generation: int, previous: dict[str, Any] | None, now: str) -> dict[str, Any]:
    status = "True" if outcome.ready else "False"
    unchanged = previous is not None and previous.get("status") == status
    return {
        "type": outcome.condition_type,
        "status": status,
        "reason": outcome.reason,
        "message": outcome.message,
        "lastTransitionTime": previous.get("lastTransitionTime", now) if unchanged and previous else now,
        "observedGeneration": generation,
    }


def desired_status(spec: StorefrontSpec, current: dict[str, Any], outcomes: dict[str, StepOutcome],
                   provisioned: ProvisionedSecrets | None, services: dict[str, ServiceState] | None,
                   deleting: bool = False) -> dict[str, Any]:
    now = now_rfc3339()
    previous = {item.get("type"): item for item in current.get("conditions") or []}
    all_outcomes = {**outcomes, READY: ready_outcome(outcomes)}
    ordered = [*STEP_CONDITIONS, READY]
    conditions = [condition(all_outcomes[kind], spec.generation, previous.get(kind), now)
                  for kind in ordered if kind in all_outcomes]
    # Steps that did not run this time keep their last condition.
    conditions += [item for kind, item in previous.items() if kind not in all_outcomes]
    status: dict[str, Any] = {
        "observedGeneration": spec.generation,
        "phase": phase_for(outcomes, deleting),
        "url": spec.url,
        "conditions": sorted(conditions, key=lambda item: ordered.index(item["type"]) if item["type"] in ordered else 99),
    }
    if services is not None:
        status["services"] = {name: state.as_status() for name, state in services.items()}
    elif "services" in current:
        status["services"] = current["services"]
    if provisioned is not None and provisioned.database_secrets:
        status["databases"] = {service: {"database": database_for(spec, provisioned, service),
                                         "secretName": secret}
                               for service, secret in provisioned.database_secrets.items()}
        status["signingKeys"] = {"activeKid": provisioned.active_kid, "publishedKids": provisioned.published_kids}
    else:
        for key in ("databases", "signingKeys"):
            if key in current:
                status[key] = current[key]
    return status


def database_for(spec: StorefrontSpec, provisioned: ProvisionedSecrets, service: str) -> str:
    login = provisioned.database_logins.get(service)
    return login.database if login else naming.database_name(spec.name, service)


def merge_patch(current: Any, desired: Any) -> Any:
    """The RFC 7386 merge patch turning current into desired (None when they are equal)."""
    if isinstance(current, dict) and isinstance(desired, dict):
        patch: dict[str, Any] = {}
        for key, value in desired.items():
            if key not in current:
                patch[key] = value
            else:
                nested = merge_patch(current[key], value)
                if nested is not None:
                    patch[key] = nested
        for key in current:
            if key not in desired:
                patch[key] = None
        return patch or None
    return None if current == desired else desired


def update_status(kube: Kube, events: EventRecorder, storefront: Object, desired: dict[str, Any]) -> bool:
    """Patch the status if it changed and record an Event per condition transition; True if written."""
    current = storefront.get("status") or {}
    patch = merge_patch(current, desired)
    if patch is None:
        return False
    metadata = storefront["metadata"]
    kube.patch_status(metadata["namespace"], metadata["name"], patch)
    for transition in transitions(current, desired):
        events.record(storefront, *transition)
    return True


def transitions(current: dict[str, Any], desired: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(type, reason, message) of an Event for each condition whose status or reason changed, and the phase."""
    before = {item.get("type"): item for item in current.get("conditions") or []}
    found: list[tuple[str, str, str]] = []
    for item in desired.get("conditions") or []:
        old = before.get(item["type"])
        if old and old.get("status") == item["status"] and old.get("reason") == item["reason"]:
            continue
        event_type = "Normal" if item["status"] == "True" else "Warning"
        if item["status"] != "True" and item["reason"] in ("ReplicasNotReady", "EmbeddedServerNotReady", "Blocked"):
            event_type = "Normal"  # waiting is not a fault
        found.append((event_type, item["reason"], f"{item['type']}={item['status']}: {item.get('message', '')}"))
    if current.get("phase") != desired.get("phase"):
        found.append(("Normal", f"Phase{desired.get('phase')}",
                      f"phase {current.get('phase') or 'none'} -> {desired.get('phase')}"))
    return found
