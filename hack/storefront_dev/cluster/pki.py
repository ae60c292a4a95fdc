"""The cluster's certificates: one CA that signs the API server's serving certificate, the kubelet's,
and a client certificate per component (its name and group are what RBAC and the Node authorizer
see), plus the service-account signing key. Made once per cluster, kept in .cluster/pki."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import layout

VALIDITY = datetime.timedelta(days=365)
PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Client:
    """A client certificate: `name` is the user Kubernetes sees, `groups` its groups."""

    file: str
    name: str
    groups: tuple[str, ...] = ()


CLIENTS = (
    Client("admin", "storefront-admin", ("system:masters",)),
    Client("controller-manager", "system:kube-controller-manager"),
    Client("scheduler", "system:kube-scheduler"),
    Client("kubelet", f"system:node:{layout.NODE_NAME}", ("system:nodes",)),
    Client("kube-proxy", "system:kube-proxy"),
    Client("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)),
)


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def write_key(path: Path, key: PrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def subject(name: str, groups: tuple[str, ...] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, name)])


def _builder(name: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALIDITY))


def make_ca(directory: Path) -> tuple[x509.Certificate, PrivateKey]:
    key = new_key()
    name = subject("storefront-cluster-ca")
    cert = (_builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    write_key(directory / "ca.key", key)
    write_cert(directory / "ca.crt", cert)
    return cert, key


def issue(directory: Path, file: str, name: x509.Name, ca: tuple[x509.Certificate, PrivateKey],
          server_names: tuple[str, ...] = (), server_addresses: tuple[str, ...] = ()) -> None:
    ca_cert, ca_key = ca
    key = new_key()
    server = bool(server_names or server_addresses)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (_builder(name, ca_cert.subject, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
    if server:
        alternative = [x509.DNSName(dns) for dns in server_names]
        alternative += [x509.IPAddress(ipaddress.ip_address(address)) for address in server_addresses]
        builder = builder.add_extension(x509.SubjectAlternativeName(alternative), critical=False)
    write_key(directory / f"{file}.key", key)
    write_cert(directory / f"{file}.crt", builder.sign(ca_key, hashes.SHA256()))


def ensure(directory: Path) -> None:
    """Create the CA and every certificate, unless a complete set is already there."""
    if (directory / ".complete").exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    ca = make_ca(directory)
    api_names = ("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                 f"kubernetes.default.svc.{layout.CLUSTER_DOMAIN}", "localhost")
    issue(directory, "apiserver", subject("kube-apiserver"), ca, api_names,
          (layout.NODE_ADDRESS, "127.0.0.1", layout.KUBERNETES_SERVICE_ADDRESS))
    issue(directory, "kubelet-serving", subject(layout.NODE_NAME), ca, (layout.NODE_NAME,), (layout.NODE_ADDRESS,))
    for client in CLIENTS:
        issue(directory, client.file, subject(client.name, client.groups), ca)
    service_account = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_key(directory / "service-account.key", service_account)
    (directory / "service-account.pub").write_bytes(service_account.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (directory / ".complete").touch()
