"""`python -m storefront_operator.dev --kubeconfig .cluster/kubeconfig` (what `make operator` runs).

Runs the operator in the foreground against a local control plane: installs the Storefront CRD if
it is missing and, unless --postgres-url is given, starts a private PostgreSQL for the Storefronts
to use. The admin credentials land in a Secret (--admin-secret) in --namespace, so a Storefront there
can say `database.server: {host: 127.0.0.1, port: <printed>, sslMode: disable, adminSecretRef: {name: ...}}`.
"""
from __future__ import annotations

import argparse
import base64
import logging
import os
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
CRD_FILE = REPOSITORY / "k8s" / "crds" / "storefront.yaml"
CRD_NAME = "storefronts.storefront.dev"


def find_helm() -> str:
    if os.environ.get("HELM_BINARY"):
        return os.environ["HELM_BINARY"]
    on_path = shutil.which("helm")
    if on_path:
        return on_path
    # The control plane build (make controlplane-bin) caches helm beside kube-apiserver.
    from storefront_dev.controlplane import build_binaries

    return str(build_binaries() / "helm")


def install_crd_if_missing(kubeconfig: str) -> None:
    from .kube import Kube, ResourceKind

    crds = ResourceKind("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions",
                        namespaced=False)
    kube = Kube.from_environment(kubeconfig)
    if kube.get(crds, "", CRD_NAME) is not None:
        print(f"CRD {CRD_NAME} present")
        return
    kube.apply(crds, yaml.safe_load(CRD_FILE.read_text()))
    print(f"CRD {CRD_NAME} installed from {CRD_FILE}")


def write_admin_secret(kubeconfig: str, namespace: str, name: str, username: str, password: str) -> None:
    from .kube import SECRET, Kube, ResourceKind

    kube = Kube.from_environment(kubeconfig)
    namespaces = ResourceKind("v1", "Namespace", "namespaces", namespaced=False)
    if kube.get(namespaces, "", namespace) is None:
        kube.apply(namespaces, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    kube.apply(SECRET, {"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": name, "namespace": namespace},
                        "type": "Opaque", "data": {"username": encode(username), "password": encode(password)}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storefront_operator.dev")
    parser.add_argument("--kubeconfig", default=".cluster/kubeconfig")
    parser.add_argument("--postgres-url", default="", help="an existing server's admin URL; default: start one")
    parser.add_argument("--namespace", default="default", help="where the admin Secret goes")
    parser.add_argument("--admin-secret", default="storefront-dev-db-admin")
    parser.add_argument("--watch-namespaces", default="", help="comma list; default: every namespace")
    args = parser.parse_args(argv)

    kubeconfig = str(Path(args.kubeconfig).resolve())
    if not Path(kubeconfig).exists():
        print(f"{kubeconfig} does not exist: start a control plane with `make cluster-up`", file=sys.stderr)
        return 1
    os.environ["KUBECONFIG"] = kubeconfig
    # The kubernetes package read KUBECONFIG when this package imported it; kopf's login uses that copy.
    from kubernetes.config import kube_config

    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = kubeconfig
    os.environ["HELM_BINARY"] = find_helm()
    if args.watch_namespaces:
        os.environ["STOREFRONT_NAMESPACES"] = args.watch_namespaces
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_crd_if_missing(kubeconfig)

    with ExitStack() as stack:
        if args.postgres_url:
            url = urlparse(args.postgres_url)
            host, port = url.hostname or "127.0.0.1", url.port or 5432
            username, password = unquote(url.username or "postgres"), unquote(url.password or "")
        else:
            from storefront_common.testing.postgres import PostgresServer

            server = stack.enter_context(PostgresServer(auth="scram-sha-256"))
            host, port, username, password = "127.0.0.1", server.port, "postgres", server.admin_password
        write_admin_secret(kubeconfig, args.namespace, args.admin_secret, username, password)
        print(f"PostgreSQL for Storefronts: host {host}, port {port}; admin Secret "
              f"{args.namespace}/{args.admin_secret}", flush=True)

        import kopf

        from .settings import OperatorSettings

        namespaces = OperatorSettings().namespaces
        kopf.run(standalone=True, clusterwide=not namespaces, namespaces=namespaces)
    return 0


if __name__ == "__main__":
    sys.exit(main())
