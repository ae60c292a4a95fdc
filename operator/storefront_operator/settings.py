"""The operator's configuration, from environment variables (the chart's Deployment sets them)."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import topology

GROUP = "storefront.dev"
VERSION = "v1alpha1"
PLURAL = "storefronts"
KIND = "Storefront"
API_VERSION = f"{GROUP}/{VERSION}"

FIELD_MANAGER = "storefront-operator"
INSTANCE_LABEL = "storefront.dev/instance"
PART_LABEL = "storefront.dev/part"
HASH_ANNOTATION = "storefront.dev/applied-hash"
ROTATE_ANNOTATION = "storefront.dev/rotate-signing-key"
FINALIZER = "storefront.dev/finalizer"
# kopf's own bookkeeping annotations live under a prefix of their own, so they never
# shadow ours (kopf leaves annotations under its prefix out of the diff it reacts to).
KOPF_ANNOTATION_PREFIX = "operator.storefront.dev"

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPOSITORY_DIR = _PACKAGE_DIR.parents[1]


def _default_chart_dir() -> Path:
    # In the repository the chart sits beside the operator; the image copies it to /chart.
    in_repository = _REPOSITORY_DIR / "charts" / "storefront"
    return in_repository if in_repository.is_dir() else Path("/chart")


def chart_dir_from_env() -> Path:
    return Path(os.environ.get("STOREFRONT_CHART_DIR", _default_chart_dir()))


# The chart states the services; the operator provisions a database and Secrets for each it names.
TOPOLOGY = topology.load(chart_dir_from_env())
SERVICE_NAMES: tuple[str, ...] = TOPOLOGY.names
# Those the users service issues service tokens to (its SERVICE_CLIENTS); web is not one.
SERVICE_CLIENT_NAMES: tuple[str, ...] = TOPOLOGY.service_clients


def _namespaces_from_env() -> tuple[str, ...]:
    raw = os.environ.get("STOREFRONT_NAMESPACES", "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class OperatorSettings:
    chart_dir: Path = field(default_factory=chart_dir_from_env)
    helm_binary: str = field(default_factory=lambda: os.environ.get("HELM_BINARY") or shutil.which("helm") or "helm")
    # Empty: every namespace (cluster-wide).
    namespaces: tuple[str, ...] = field(default_factory=_namespaces_from_env)
    drift_check_interval_seconds: float = field(
        default_factory=lambda: float(os.environ.get("STOREFRONT_DRIFT_CHECK_INTERVAL_SECONDS", "60")))
    retry_backoff_max_seconds: float = field(
        default_factory=lambda: float(os.environ.get("STOREFRONT_RETRY_BACKOFF_MAX_SECONDS", "60")))
    database_connect_timeout_seconds: int = field(
        default_factory=lambda: int(os.environ.get("STOREFRONT_DATABASE_CONNECT_TIMEOUT_SECONDS", "5")))
    # CA bundle for the operator's own connections when a Storefront names no caCertificate ConfigMap.
    database_ssl_root_cert: str = field(default_factory=lambda: os.environ.get("STOREFRONT_DATABASE_SSL_ROOT_CERT", ""))
    worker_threads: int = field(default_factory=lambda: int(os.environ.get("STOREFRONT_WORKER_THREADS", "8")))


def retry_delay_seconds(retry: int, maximum: float) -> float:
    """Exponential backoff for a failing reconcile: 1, 2, 4 ... seconds, capped."""
    return float(min(2 ** min(retry, 16), maximum))
