"""What a reconcile step reports: becomes one metav1.Condition on the Storefront's status."""
from __future__ import annotations

from dataclasses import dataclass

SECRETS_READY = "SecretsReady"
DATABASES_READY = "DatabasesReady"
WORKLOADS_READY = "WorkloadsReady"
READY = "Ready"
STEP_CONDITIONS: tuple[str, ...] = (SECRETS_READY, DATABASES_READY, WORKLOADS_READY)


@dataclass(frozen=True)
class StepOutcome:
    condition_type: str
    ready: bool
    reason: str
    message: str
    # True: something is wrong that a retry with backoff may fix (server down, Secret missing).
    # False with ready=False: simply not there yet (replicas starting); watches will tell.
    failed: bool = False

    @classmethod
    def success(cls, condition_type: str, reason: str, message: str) -> StepOutcome:
        return cls(condition_type, True, reason, message)

    @classmethod
    def failure(cls, condition_type: str, reason: str, message: str) -> StepOutcome:
        return cls(condition_type, False, reason, message, failed=True)

    @classmethod
    def waiting(cls, condition_type: str, reason: str, message: str) -> StepOutcome:
        return cls(condition_type, False, reason, message)
