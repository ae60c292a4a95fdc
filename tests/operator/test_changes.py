"""Spec changes reach the children; deleted or hand-edited children are restored; signing keys rotate."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.operator.conftest import (condition, create_storefront, get_storefront, mark_deployments_ready, patch_storefront,
                      secret_files, wait_for, wait_provisioned, wait_ready)
from storefront_operator.kube import DEPLOYMENT, INGRESS, SECRET, Kube, ResourceKind

HPA = ResourceKind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers")

pytestmark = pytest.mark.usefixtures("shared_operator")


def deployment(admin_kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    return admin_kube.get(DEPLOYMENT, namespace, name) or {}


def image_of(obj: dict[str, Any]) -> str:
    return obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])[0].get("image", "")


def test_spec_changes_reach_children_and_observed_generation_follows(admin_kube: Kube, namespace: str,
                                                                     postgres: Any) -> None:
    create_storefront(admin_kube, namespace, "shop", postgres)
    wait_provisioned(admin_kube, namespace, "shop")
    updated = patch_storefront(admin_kube, namespace, "shop", {"spec": {
        "version": "0.2.0",
        "services": {"users": {"replicas": 3}, "orders": {"image": "registry.example.com/storefront/orders:0.2.1"}},
        "ingress": {"host": "new.shop.example"},
    }})
    generation = updated["metadata"]["generation"]

    wait_for(lambda: deployment(admin_kube, namespace, "shop-users").get("spec", {}).get("replicas") == 3,
             what="users replicas 3")
    wait_for(lambda: image_of(deployment(admin_kube, namespace, "shop-carts")) ==
             "registry.example.com/storefront/carts:0.2.0", what="carts on 0.2.0")
    wait_for(lambda: image_of(deployment(admin_kube, namespace, "shop-orders")) ==
             "registry.example.com/storefront/orders:0.2.1", what="orders on its own image")
    ingress = wait_for(lambda: next((item for item in admin_kube.list(INGRESS, namespace, "storefront.dev/instance=shop")
                                     if item["spec"]["rules"][0].get("host") == "new.shop.example"), None),
                       what="ingress host changed")
    assert ingress["metadata"]["ownerReferences"][0]["name"] == "shop"
    current = wait_for(lambda: (lambda sf: sf if sf and sf.get("status", {}).get("observedGeneration") == generation
                                else None)(get_storefront(admin_kube, namespace, "shop")), what="observedGeneration")
    assert current["status"]["url"] == "http://new.shop.example"
    assert all(item["observedGeneration"] == generation for item in current["status"]["conditions"])

    mark_deployments_ready(admin_kube, namespace, "shop")
    ready = wait_ready(admin_kube, namespace, "shop")
    assert ready["status"]["services"]["users"]["readyReplicas"] == 3


def test_deleted_children_are_restored_and_hand_edits_reverted(admin_kube: Kube, namespace: str,
                                                                postgres: Any) -> None:
    create_storefront(admin_kube, namespace, "fix", postgres)
    wait_provisioned(admin_kube, namespace, "fix")
    signing_before = secret_files(admin_kube, namespace, "fix-signing-key")
    client_before = secret_files(admin_kube, namespace, "fix-carts-client")

    old_uid = deployment(admin_kube, namespace, "fix-carts")["metadata"]["uid"]
    digest_before = deployment(admin_kube, namespace, "fix-carts")["spec"]["template"]["metadata"]["annotations"][
        "storefront.dev/secrets-digest"]
    admin_kube.delete(DEPLOYMENT, namespace, "fix-carts")
    wait_for(lambda: deployment(admin_kube, namespace, "fix-carts").get("metadata", {}).get("uid") not in (None, old_uid),
             what="Deployment restored")

    admin_kube.delete(SECRET, namespace, "fix-carts-client")
    restored = wait_for(lambda: admin_kube.get(SECRET, namespace, "fix-carts-client"), what="Secret restored")
    assert restored["metadata"]["ownerReferences"][0]["name"] == "fix"
    # A lost client secret gets a new value, and the users service learns its new hash.
    new_client = secret_files(admin_kube, namespace, "fix-carts-client")["SERVICE_CLIENT_SECRET"]
    assert new_client != client_before["SERVICE_CLIENT_SECRET"]
    new_hash = f"carts:{hashlib.sha256(new_client.encode()).hexdigest()}"
    wait_for(lambda: new_hash in secret_files(admin_kube, namespace, "fix-users-client")["SERVICE_CLIENTS"].split(","),
             what="the users service's SERVICE_CLIENTS has the new hash")

    # The carts pods read the old secret at start: their template changed, so they roll.
    def carts_digest() -> str:
        template = deployment(admin_kube, namespace, "fix-carts")["spec"]["template"]["metadata"]
        return template.get("annotations", {}).get("storefront.dev/secrets-digest", "")

    wait_for(lambda: carts_digest() not in ("", digest_before), what="carts pods rolled onto the new secret")

    # A hand edit (kubectl scale) is taken back.
    admin_kube._request("PATCH", DEPLOYMENT.object_path(namespace, "fix-users"),
                        body={"spec": {"replicas": 7}}, content_type="application/merge-patch+json")
    wait_for(lambda: deployment(admin_kube, namespace, "fix-users")["spec"]["replicas"] == 2,
             what="hand-edited replicas reverted")
    assert secret_files(admin_kube, namespace, "fix-signing-key") == signing_before  # keys never regenerated


def test_rotation_keeps_previous_key_published(admin_kube: Kube, namespace: str, postgres: Any) -> None:
    create_storefront(admin_kube, namespace, "rot", postgres)
    first = wait_provisioned(admin_kube, namespace, "rot")["status"]["signingKeys"]["activeKid"]
    patch_storefront(admin_kube, namespace, "rot",
                     {"metadata": {"annotations": {"storefront.dev/rotate-signing-key": "2026-11-24"}}})

    def rotated() -> dict[str, Any] | None:
        keys = (get_storefront(admin_kube, namespace, "rot") or {}).get("status", {}).get("signingKeys", {})
        return keys if keys.get("activeKid") not in (None, first) else None

    keys = wait_for(rotated, what="rotation")
    assert keys["publishedKids"] == [keys["activeKid"], first]
    files = secret_files(admin_kube, namespace, "rot-signing-key")
    previous = json.loads(files["previous.jwks.json"])["keys"]
    assert [key["kid"] for key in previous] == [first]
    assert previous[0]["publishedUntil"]  # kept for the refresh-token lifetime (720h by default)
    assert {key["kid"] for key in json.loads(files["jwks.json"])["keys"]} == {first, keys["activeKid"]}
    users = deployment(admin_kube, namespace, "rot-users")
    annotations = users["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("storefront.dev/signing-kid") == keys["activeKid"]  # users pods restart onto the new key
    env = {item["name"]: item.get("value") for item in users["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["JWT_PREVIOUS_PUBLIC_KEYS"].endswith("previous.jwks.json")
    assert condition(get_storefront(admin_kube, namespace, "rot"), "SecretsReady")["status"] == "True"


def test_objects_no_longer_rendered_are_pruned(admin_kube: Kube, namespace: str, postgres: Any) -> None:
    create_storefront(admin_kube, namespace, "trim", postgres,
                      services={"products": {"replicas": 2, "autoscaling": {"minReplicas": 2, "maxReplicas": 6}}})
    wait_provisioned(admin_kube, namespace, "trim")
    hpa = wait_for(lambda: admin_kube.get(HPA, namespace, "trim-products"), what="HorizontalPodAutoscaler")
    assert hpa["spec"]["maxReplicas"] == 6
    assert admin_kube.list(INGRESS, namespace, "storefront.dev/instance=trim")

    # A merge patch, not a read-then-PUT: the operator writes the object too, and a PUT raced it to a 409 in CI.
    patch_storefront(admin_kube, namespace, "trim",
                     {"spec": {"services": {"products": {"replicas": 3, "autoscaling": None}}, "ingress": None}})
    wait_for(lambda: admin_kube.get(HPA, namespace, "trim-products") is None, what="HPA pruned")
    wait_for(lambda: not admin_kube.list(INGRESS, namespace, "storefront.dev/instance=trim"), what="Ingress pruned")
    wait_for(lambda: deployment(admin_kube, namespace, "trim-products")["spec"].get("replicas") == 3,
             what="products back on fixed replicas")
    # PUBLIC_URL changed with the Ingress gone: the immutable migration Jobs were replaced, not stuck.
    wait_for(lambda: condition(get_storefront(admin_kube, namespace, "trim"), "WorkloadsReady").get("reason") ==
             "ReplicasNotReady", what="workloads applied")
