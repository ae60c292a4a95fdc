"""The users service's RSA signing key, its RFC 7638 kid, and the public keys kept published after a rotation."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PRIVATE_KEY_FILE = "private.pem"
JWKS_FILE = "jwks.json"
PREVIOUS_JWKS_FILE = "previous.jwks.json"
KEY_BITS = 2048

Jwk = dict[str, Any]


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(public_key: rsa.RSAPublicKey) -> Jwk:
    numbers = public_key.public_numbers()
    jwk = {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}
    return {**jwk, "kid": thumbprint(jwk), "use": "sig", "alg": "RS256"}


def thumbprint(jwk: Jwk) -> str:
    """RFC 7638, exactly as the users service computes it, so both agree on every kid."""
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def generate_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def load_public_jwk(private_pem: str) -> Jwk | None:
    try:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    except (ValueError, TypeError):
        return None
    if not isinstance(key, rsa.RSAPrivateKey):
        return None
    return public_jwk(key.public_key())


@dataclass
class KeySet:
    """The active private key plus retired public keys, each published until its deadline."""

    private_pem: str
    active: Jwk
    previous: list[Jwk] = field(default_factory=list)  # each carries "publishedUntil"

    @property
    def published_kids(self) -> list[str]:
        return [self.active["kid"], *(jwk["kid"] for jwk in self.previous)]

    def secret_files(self) -> dict[str, str]:
        previous_public = [{key: value for key, value in jwk.items() if key != "publishedUntil"}
                           for jwk in self.previous]
        return {
            PRIVATE_KEY_FILE: self.private_pem,
            JWKS_FILE: _json({"keys": [self.active, *previous_public]}),
            # JWT_PREVIOUS_PUBLIC_KEYS of the users service; the deadlines ride along (ignored there).
            PREVIOUS_JWKS_FILE: _json({"keys": self.previous}),
        }


def _json(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def new_key_set() -> KeySet:
    pem = generate_private_pem()
    active = load_public_jwk(pem)
    assert active is not None
    return KeySet(pem, active)


def key_set_from_files(files: dict[str, str]) -> KeySet | None:
    """The key set a Secret holds; None when the private key is missing or unreadable."""
    active = load_public_jwk(files.get(PRIVATE_KEY_FILE, ""))
    if active is None:
        return None
    try:
        previous = list(json.loads(files.get(PREVIOUS_JWKS_FILE) or '{"keys": []}')["keys"])
    except (ValueError, KeyError, TypeError):
        previous = []
    return KeySet(files[PRIVATE_KEY_FILE], active, [jwk for jwk in previous if isinstance(jwk, dict)])


def drop_expired(key_set: KeySet, now: datetime) -> KeySet:
    kept = [jwk for jwk in key_set.previous if _deadline(jwk) > now]
    return KeySet(key_set.private_pem, key_set.active, kept)


def rotate(key_set: KeySet, keep_published_for: timedelta, now: datetime) -> KeySet:
    """A new active key; the old public key stays published while tokens it signed may still be used."""
    retired = {**key_set.active, "publishedUntil": (now + keep_published_for).strftime("%Y-%m-%dT%H:%M:%SZ")}
    fresh = new_key_set()
    return KeySet(fresh.private_pem, fresh.active, [retired, *key_set.previous])


def _deadline(jwk: Jwk) -> datetime:
    try:
        return datetime.strptime(str(jwk["publishedUntil"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (KeyError, ValueError):
        return datetime.min.replace(tzinfo=timezone.utc)
