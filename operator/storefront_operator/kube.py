"""A small JSON client for the Kubernetes API: get, list, server-side apply, delete, status, events.

The generated `kubernetes` API classes are avoided on purpose: the operator handles every kind
as plain dicts (what `helm template` renders), and one path builder covers them all.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import urllib3
from kubernetes import config as kube_config
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from .settings import API_VERSION, FIELD_MANAGER, KIND, PLURAL

Object = dict[str, Any]


@dataclass(frozen=True)
class ResourceKind:
    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    def collection_path(self, namespace: str | None) -> str:
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            return f"{prefix}/namespaces/{namespace}/{self.plural}"
        return f"{prefix}/{self.plural}"

    def object_path(self, namespace: str | None, name: str) -> str:
        return f"{self.collection_path(namespace)}/{name}"


STOREFRONT = ResourceKind(API_VERSION, KIND, PLURAL)
SECRET = ResourceKind("v1", "Secret", "secrets")
EVENT = ResourceKind("v1", "Event", "events")
DEPLOYMENT = ResourceKind("apps/v1", "Deployment", "deployments")
STATEFUL_SET = ResourceKind("apps/v1", "StatefulSet", "statefulsets")
INGRESS = ResourceKind("networking.k8s.io/v1", "Ingress", "ingresses")
SERVICE = ResourceKind("v1", "Service", "services")
PERSISTENT_VOLUME_CLAIM = ResourceKind("v1", "PersistentVolumeClaim", "persistentvolumeclaims")
CONFIG_MAP = ResourceKind("v1", "ConfigMap", "configmaps")
JOB = ResourceKind("batch/v1", "Job", "jobs")

# Every kind the storefront chart renders: the workloads step lists these to compare and prune.
CHART_KINDS: tuple[ResourceKind, ...] = (
    DEPLOYMENT,
    STATEFUL_SET,
    SERVICE,
    INGRESS,
    ResourceKind("v1", "ServiceAccount", "serviceaccounts"),
    CONFIG_MAP,
    SECRET,
    ResourceKind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    ResourceKind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    ResourceKind("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
    ResourceKind("batch/v1", "CronJob", "cronjobs"),
    JOB,
)
_KINDS_BY_TYPE = {(kind.api_version, kind.kind): kind for kind in CHART_KINDS}


def kind_of(obj: Object) -> ResourceKind | None:
    return _KINDS_BY_TYPE.get((obj.get("apiVersion", ""), obj.get("kind", "")))


class KubeError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Kube:
    def __init__(self, api_client: ApiClient) -> None:
        self._api_client = api_client
        # resourceVersion of each object as our last apply left it: the watch event echoing our
        # own write then needs no reconcile.
        self._own_versions: dict[tuple[str, str, str], str] = {}

    def is_own_write(self, kind: str, namespace: str, name: str, resource_version: str) -> bool:
        return self._own_versions.get((kind, namespace, name)) == resource_version

    @classmethod
    def from_environment(cls, kubeconfig: str | None = None) -> Kube:
        """In a pod: the ServiceAccount. Elsewhere: the kubeconfig (KUBECONFIG or the given path)."""
        if kubeconfig is None:
            try:
                kube_config.load_incluster_config()
                return cls(ApiClient())
            except kube_config.ConfigException:
                pass
        # KUBECONFIG is read now, not when the kubernetes package was imported (dev.py sets it late).
        path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or None
        return cls(kube_config.new_client_from_config(config_file=path))

    def _request(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
                 query: dict[str, str] | None = None) -> Any:
        url = self._api_client.configuration.host + path + (f"?{urlencode(query)}" if query else "")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        self._api_client.update_params_for_auth(headers, None, ["BearerToken"], path, method, body)
        try:
            response = self._api_client.call_api(method, url, header_params=headers,
                                                 body=body, _request_timeout=30)
            response.read()
        except ApiException as error:
            raise KubeError(error.status or 0, _api_message(error)) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise KubeError(0, f"API server unreachable: {error}") from None
        text = response.data.decode() if response.data else ""
        if response.status >= 400:
            raise KubeError(response.status, _status_message(text))
        return json.loads(text) if text else None

    def get(self, kind: ResourceKind, namespace: str, name: str) -> Object | None:
        try:
            return self._request("GET", kind.object_path(namespace, name))
        except KubeError as error:
            if error.status == 404:
                return None
            raise

    def list(self, kind: ResourceKind, namespace: str, label_selector: str) -> list[Object]:
        result = self._request("GET", kind.collection_path(namespace), query={"labelSelector": label_selector})
        items: list[Object] = result.get("items", [])
        for item in items:  # list items come without their type
            item.setdefault("apiVersion", kind.api_version)
            item.setdefault("kind", kind.kind)
        return items

    def apply(self, kind: ResourceKind, obj: Object) -> Object:
        """Server-side apply with the operator's one field manager; force takes fields back from hand edits."""
        metadata = obj["metadata"]
        path = kind.object_path(metadata.get("namespace"), metadata["name"])
        # JSON is YAML: a serialised body goes out as is under the apply content type.
        result: Object = self._request("PATCH", path, body=json.dumps(obj),
                                       content_type="application/apply-patch+yaml",
                                       query={"fieldManager": FIELD_MANAGER, "force": "true"})
        key = (kind.kind, metadata.get("namespace") or "", metadata["name"])
        self._own_versions[key] = str(result.get("metadata", {}).get("resourceVersion", ""))
        return result

    def delete(self, kind: ResourceKind, namespace: str, name: str, uid: str | None = None) -> None:
        body: Object = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        if uid:  # never delete a newer object that took the same name
            body["preconditions"] = {"uid": uid}
        try:
            self._request("DELETE", kind.object_path(namespace, name), body=body)
        except KubeError as error:
            if error.status not in (404, 409):
                raise

    def patch_status(self, namespace: str, name: str, status_patch: Object) -> Object:
        path = STOREFRONT.object_path(namespace, name) + "/status"
        return self._request("PATCH", path, body={"status": status_patch},
                             content_type="application/merge-patch+json")

    def create(self, kind: ResourceKind, namespace: str, obj: Object) -> Object:
        return self._request("POST", kind.collection_path(namespace), body=obj)


def _status_message(text: str) -> str:
    """The message of a metav1.Status body, not the whole JSON document."""
    try:
        return str(json.loads(text).get("message", text))[:1000]
    except (TypeError, ValueError, AttributeError):
        return text[:1000]


def _api_message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body).get("message", error.reason))
    except (TypeError, ValueError):
        return str(error.reason)


class EventRecorder:
    """Kubernetes Events on the Storefront (what `kubectl describe sf` shows)."""

    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._lock = threading.Lock()

    def record(self, storefront: Object, event_type: str, reason: str, message: str) -> None:
        metadata = storefront["metadata"]
        timestamp = now_rfc3339()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{metadata['name']}.", "namespace": metadata["namespace"]},
            "involvedObject": {
                "apiVersion": API_VERSION, "kind": KIND, "name": metadata["name"],
                "namespace": metadata["namespace"], "uid": metadata["uid"],
                "resourceVersion": metadata.get("resourceVersion", ""),
            },
            "type": event_type,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": FIELD_MANAGER},
            "reportingComponent": FIELD_MANAGER,
            "firstTimestamp": timestamp,
            "lastTimestamp": timestamp,
            "count": 1,
        }
        try:
            self._kube.create(EVENT, metadata["namespace"], event)
        except KubeError:
            pass  # an Event is a courtesy; losing one must not fail the reconcile
