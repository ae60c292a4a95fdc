"""Ownership, labels and write-only-when-changed server-side apply, shared by the secrets and workloads steps.

An object is applied only when the desired state differs from what is live: either the rendered
content changed (its hash annotation no longer matches) or someone edited a field the operator
sets (the desired object is no longer contained in the live one). An idle operator writes nothing.
"""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from kubernetes.utils import parse_quantity

from .kube import Kube, Object, ResourceKind
from .settings import API_VERSION, HASH_ANNOTATION, INSTANCE_LABEL, KIND, PART_LABEL
from .spec import StorefrontSpec

logger = logging.getLogger("storefront_operator")


def owner_reference(spec: StorefrontSpec) -> Object:
    return {"apiVersion": API_VERSION, "kind": KIND, "name": spec.name, "uid": spec.uid,
            "controller": True, "blockOwnerDeletion": True}


def content_hash(obj: Object) -> str:
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def claim(obj: Object, spec: StorefrontSpec, part: str) -> Object:
    """The object as the operator applies it: namespaced, labelled, owned, with its content hash."""
    metadata = obj.setdefault("metadata", {})
    metadata["namespace"] = spec.namespace
    labels = metadata.get("labels") or {}
    metadata["labels"] = {**labels, INSTANCE_LABEL: spec.name, PART_LABEL: part}
    metadata["ownerReferences"] = [owner_reference(spec)]
    annotations = {key: value for key, value in (metadata.get("annotations") or {}).items() if key != HASH_ANNOTATION}
    metadata["annotations"] = annotations
    metadata["annotations"] = {**annotations, HASH_ANNOTATION: content_hash(obj)}
    return obj


def foreign_controller(live: Object, spec: StorefrontSpec) -> str | None:
    """The name of another controller owning this object, if any (then the operator leaves it alone)."""
    for reference in live.get("metadata", {}).get("ownerReferences") or []:
        if reference.get("controller") and reference.get("uid") != spec.uid:
            return f"{reference.get('kind')} {reference.get('name')}"
    return None


def needs_apply(desired: Object, live: Object | None) -> bool:
    return drift(desired, live) is not None


def drift(desired: Object, live: Object | None) -> str | None:
    """Why desired must be applied over live (a field path), or None when live already matches."""
    if live is None:
        return "missing"
    live_hash = (live.get("metadata", {}).get("annotations") or {}).get(HASH_ANNOTATION)
    if live_hash != desired["metadata"]["annotations"][HASH_ANNOTATION]:
        return "rendered content changed"
    return first_difference(desired, live, "")


def first_difference(desired: Any, live: Any, path: str) -> str | None:
    """The first field of desired whose value live does not have (live may hold more: defaults, status)."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return path or "."
        for key, value in desired.items():
            if value is None:
                if live.get(key) is not None:
                    return f"{path}.{key}"
                continue
            if key not in live:
                if value in ([], {}, ""):
                    continue  # the API server leaves out empty values (omitempty)
                return f"{path}.{key}"
            found = first_difference(value, live[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return path
        for index, (want, have) in enumerate(zip(desired, live)):
            found = first_difference(want, have, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if scalars_equal(desired, live) else path


def scalars_equal(desired: Any, live: Any) -> bool:
    if desired == live:
        return True
    if isinstance(desired, (str, int, float)) and isinstance(live, (str, int, float)):
        # The API server rewrites quantities into canonical form (e.g. 1000m -> 1).
        try:
            return bool(parse_quantity(desired) == parse_quantity(live))
        except ValueError:
            return str(desired) == str(live)
    return False


def apply_changed(kube: Kube, kind: ResourceKind, desired: Object, live: Object | None) -> Object | None:
    """Apply desired if it differs from live; returns the object the server now holds, or None if untouched."""
    reason = drift(desired, live)
    if reason is None:
        return None
    logger.info("applying %s %s/%s: %s", kind.kind, desired["metadata"]["namespace"], desired["metadata"]["name"],
                reason)
    return kube.apply(kind, desired)
