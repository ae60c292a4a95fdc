"""The pure pieces: drift detection, merge patches, conditions, names, durations, key rotation, peering."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from storefront_operator import naming, topology
from storefront_operator.apply import first_difference
from storefront_operator.conditions import StepOutcome
from storefront_operator.databases import public_can_connect, scram_verifier
from storefront_operator.handlers import peering_priority
from storefront_operator.secrets import ProvisionedSecrets
from storefront_operator.settings import SERVICE_NAMES
from storefront_operator.signing_keys import drop_expired, key_set_from_files, new_key_set, rotate
from storefront_operator.spec import CACertificateRef, StorefrontSpec, duration_seconds
from storefront_operator.status import condition, merge_patch, phase_for
from storefront_operator.workloads import chart_values, deployment_state


def test_drift_ignores_server_defaults_canonical_quantities_and_omitted_empties() -> None:
    desired = {"spec": {"replicas": 2, "resources": {"cpu": "1000m", "memory": "128Mi"}, "except": []}}
    live = {"spec": {"replicas": 2, "resources": {"cpu": "1", "memory": "128Mi"}, "progressDeadlineSeconds": 600}}
    assert first_difference(desired, live, "") is None
    live["spec"]["replicas"] = 7
    assert first_difference(desired, live, "") == ".spec.replicas"


def test_merge_patch_is_minimal_and_none_when_equal() -> None:
    current = {"phase": "Ready", "services": {"users": {"replicas": 2}, "carts": {"replicas": 1}}}
    assert merge_patch(current, current) is None
    desired = {"phase": "Degraded", "services": {"users": {"replicas": 2}}}
    assert merge_patch(current, desired) == {"phase": "Degraded", "services": {"carts": None}}


def test_last_transition_time_moves_only_on_status_change() -> None:
    before = {"type": "Ready", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z"}
    same = condition(StepOutcome.failure("Ready", "Other", "still failing"), 3, before, "2026-02-02T00:00:00Z")
    assert same["lastTransitionTime"] == "2026-01-01T00:00:00Z" and same["reason"] == "Other"
    flipped = condition(StepOutcome.success("Ready", "Ready", "ok"), 3, before, "2026-02-02T00:00:00Z")
    assert flipped["lastTransitionTime"] == "2026-02-02T00:00:00Z" and flipped["observedGeneration"] == 3


def test_phase() -> None:
    ok = StepOutcome.success("SecretsReady", "Provisioned", "")
    waiting = StepOutcome.waiting("WorkloadsReady", "ReplicasNotReady", "")
    broken = StepOutcome.failure("DatabasesReady", "ServerUnreachable", "")
    assert phase_for({"a": ok}) == "Ready"
    assert phase_for({"a": ok, "b": waiting}) == "Provisioning"
    assert phase_for({"a": broken, "b": waiting}) == "Degraded"
    assert phase_for({"a": ok}, deleting=True) == "Deleting"


def test_names() -> None:
    assert naming.database_name("acme", "users") == "acme_users"
    assert naming.database_name("my-shop", "orders") == "my_shop_orders"
    long_name = naming.database_name("x" * 80, "payments")
    assert len(long_name) == 63 and long_name != naming.database_name("x" * 81, "payments")


def test_durations() -> None:
    assert duration_seconds("15m") == 900
    assert duration_seconds("1h30m") == 5400
    assert duration_seconds("720h") == 2_592_000


def test_rotation_publishes_the_previous_key_until_its_deadline() -> None:
    now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    first = new_key_set()
    rotated = rotate(first, timedelta(hours=1), now)
    assert rotated.active["kid"] != first.active["kid"]
    assert rotated.published_kids == [rotated.active["kid"], first.active["kid"]]
    reloaded = key_set_from_files(rotated.secret_files())
    assert reloaded is not None and reloaded.published_kids == rotated.published_kids
    assert drop_expired(reloaded, now + timedelta(minutes=59)).published_kids == rotated.published_kids
    assert drop_expired(reloaded, now + timedelta(hours=2)).published_kids == [rotated.active["kid"]]


def test_scram_verifier_and_acl() -> None:
    verifier = scram_verifier("secret")
    assert verifier.startswith("SCRAM-SHA-256$4096:") and "secret" not in verifier
    assert public_can_connect(None)
    assert public_can_connect(["=Tc/owner", "owner=CTc/owner"])
    assert not public_can_connect(["=T/owner", "owner=CTc/owner"])


def test_chart_values_carry_the_database_ca_certificate_only_when_set() -> None:
    server = {"host": "db.example.com", "sslMode": "verify-full", "adminSecretRef": {"name": "db-admin"}}
    storefront = {"metadata": {"namespace": "shop", "name": "acme", "uid": "u1"},
                  "spec": {"version": "0.1.0", "imageRegistry": "registry.example.com/storefront",
                           "database": {"server": server}}}
    provisioned = ProvisionedSecrets(database_secrets={s: f"acme-{s}-db" for s in SERVICE_NAMES},
                                     client_secrets={s: f"acme-{s}-client" for s in SERVICE_NAMES})
    assert "database" not in chart_values(StorefrontSpec.from_object(storefront), provisioned)

    server["caCertificate"] = {"configMapRef": {"name": "rds-ca-bundle"}}  # key: the CRD's default
    spec = StorefrontSpec.from_object(storefront)
    assert spec.server is not None and spec.server.ca_certificate == CACertificateRef("rds-ca-bundle", "ca.crt")
    server["caCertificate"]["key"] = "global-bundle.pem"
    values = chart_values(StorefrontSpec.from_object(storefront), provisioned)
    assert values["database"] == {"caCertificate": {"configMapName": "rds-ca-bundle", "key": "global-bundle.pem"}}


def test_an_earlier_start_is_a_higher_peering_priority_to_the_microsecond() -> None:
    started = 1_764_640_000_000_000_000
    assert peering_priority(started) > peering_priority(started + 1_000) > peering_priority(started + 60 * 10**9)
    assert peering_priority(started) == peering_priority(started + 999)


def test_a_deployment_is_rolled_out_only_when_no_old_pod_is_left() -> None:
    def state(**status: int) -> bool:
        deployment = {"metadata": {"generation": 2}, "spec": {"replicas": 1},
                      "status": {"observedGeneration": 2, **status}}
        return deployment_state(deployment).rolled_out

    # Mid-rollout with maxSurge: the new pod exists but is not ready; the old one still serves.
    assert not state(replicas=2, updatedReplicas=1, readyReplicas=1, availableReplicas=1)
    # The new pod is ready, the old one is still terminating.
    assert not state(replicas=2, updatedReplicas=1, readyReplicas=2, availableReplicas=2)
    assert state(replicas=1, updatedReplicas=1, readyReplicas=1, availableReplicas=1)
    assert not state(replicas=1, updatedReplicas=1, readyReplicas=0, availableReplicas=0)


def test_a_component_overrides_the_default_as_the_chart_merges_them() -> None:
    default = {"enabled": True, "threads": 4, "autoscaling": {"enabled": False, "maxReplicas": 10}, "tolerations": [1]}
    component = {"enabled": False, "autoscaling": {"enabled": True}, "tolerations": [], "routes": ["/x"]}
    assert topology.merged(default, component) == {
        "enabled": False, "threads": 4, "autoscaling": {"enabled": True, "maxReplicas": 10}, "tolerations": [],
        "routes": ["/x"]}
    assert default["autoscaling"] == {"enabled": False, "maxReplicas": 10}  # untouched
