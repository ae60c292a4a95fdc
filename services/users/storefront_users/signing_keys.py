"""The RSA signing key, its RFC 7638 kid, and the public keys published in the JWKS."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from storefront_common.auth import public_key_from_jwk

from .settings import Settings

logger = logging.getLogger("storefront.users.signing_keys")
LOCAL_KEY_FILE = "users-signing-key.pem"


class SigningKeyError(RuntimeError):
    """The signing key configuration cannot work; the service refuses to start."""


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    jwk = json.loads(RSAAlgorithm.to_jwk(public_key))
    return {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace."""
    jwk = public_jwk(public_key)
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class SigningKeys:
    private_key: rsa.RSAPrivateKey
    previous_public_keys: list[rsa.RSAPublicKey] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.active_kid = thumbprint(self.private_key.public_key())
        self.public_keys: dict[str, rsa.RSAPublicKey] = {self.active_kid: self.private_key.public_key()}
        for key in self.previous_public_keys:
            self.public_keys.setdefault(thumbprint(key), key)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**public_jwk(key), "kid": kid, "use": "sig", "alg": "RS256"}
                         for kid, key in self.public_keys.items()]}


def _pem_text(value: str) -> bytes:
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    path = Path(value)
    if not path.is_file():
        raise SigningKeyError("JWT_PRIVATE_KEY is neither a PEM value nor the path of a PEM file")
    return path.read_bytes()


def _load_private_key(pem: bytes, source: str = "JWT_PRIVATE_KEY") -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{source} is not an unencrypted PEM private key") from error
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise SigningKeyError(f"{source} must be an RSA key of at least 2048 bits")
    return key


def _private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def local_private_key(data_dir: Path) -> rsa.RSAPrivateKey:
    """The development key in DATA_DIR, generated on first start and reused afterwards."""
    path = data_dir / LOCAL_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = data_dir / f".{LOCAL_KEY_FILE}.{os.getpid()}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(_private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
        try:
            # link() fails if another process won the race; everyone then uses the winner's key.
            os.link(temporary, path)
            logger.info("generated a local signing key", extra={"path": str(path)})
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return _load_private_key(path.read_bytes(), source=str(path))


def _load_previous_keys(value: str) -> list[rsa.RSAPublicKey]:
    if not value.strip():
        return []
    text = value if value.lstrip().startswith("{") else _read_jwks_file(value)
    try:
        document = json.loads(text)
        return [public_key_from_jwk(jwk) for jwk in document["keys"] if jwk.get("kty") == "RSA"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SigningKeyError("JWT_PREVIOUS_PUBLIC_KEYS is not a JWKS document of RSA keys") from error


def _read_jwks_file(value: str) -> str:
    path = Path(value)
    if not path.is_file():
        raise SigningKeyError("JWT_PREVIOUS_PUBLIC_KEYS is neither a JWKS JSON document nor a path to one")
    return path.read_text()


def load_signing_keys(settings: Settings) -> SigningKeys:
    if settings.jwt_private_key:
        private_key = _load_private_key(_pem_text(settings.jwt_private_key))
    elif settings.environment == "local":
        private_key = local_private_key(Path(settings.data_dir))
    else:
        raise SigningKeyError("JWT_PRIVATE_KEY is required outside local mode (ENVIRONMENT=local)")
    return SigningKeys(private_key, _load_previous_keys(settings.jwt_previous_public_keys))
