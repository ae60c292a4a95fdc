from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from storefront_common.auth import public_key_from_jwk
from storefront_users.service_clients import ServiceClientsError, parse_service_clients
from storefront_users.settings import Settings
from storefront_users.signing_keys import LOCAL_KEY_FILE, SigningKeyError, load_signing_keys, thumbprint
from services.users.tests.conftest import jwks_of, private_pem

RFC7638_KEY = {
    "kty": "RSA", "e": "AQAB",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjh"
         "Mstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ"
         "vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzK"
         "nqDKgw",
}


def test_the_kid_is_the_rfc_7638_thumbprint() -> None:
    # The example of RFC 7638, section 3.1: any party computes the same kid from the public key.
    assert thumbprint(public_key_from_jwk(RFC7638_KEY)) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_local_mode_generates_a_private_key_once(tmp_path: Path) -> None:
    settings = Settings(environment="local", data_dir=str(tmp_path / "data"))
    first = load_signing_keys(settings)
    key_file = tmp_path / "data" / LOCAL_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_signing_keys(settings).active_kid == first.active_kid
    assert sorted(path.name for path in key_file.parent.iterdir()) == [LOCAL_KEY_FILE]


def test_production_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="JWT_PRIVATE_KEY is required"):
        load_signing_keys(Settings(environment="production", data_dir=str(tmp_path)))
    assert list(tmp_path.iterdir()) == []


def test_keys_are_read_from_values_or_files(tmp_path: Path) -> None:
    active, previous = (rsa.generate_private_key(65537, 2048) for _ in range(2))
    (tmp_path / "key.pem").write_text(private_pem(active))
    (tmp_path / "previous.json").write_text(jwks_of(previous, active))
    from_files = load_signing_keys(Settings(environment="production", jwt_private_key=str(tmp_path / "key.pem"),
                                            jwt_previous_public_keys=str(tmp_path / "previous.json")))
    from_values = load_signing_keys(Settings(environment="production", jwt_private_key=private_pem(active),
                                             jwt_previous_public_keys=jwks_of(previous)))
    for keys in (from_files, from_values):
        assert keys.active_kid == thumbprint(active.public_key())
        # The active key listed among the previous ones (a whole published JWKS) appears once.
        assert [key["kid"] for key in keys.jwks()["keys"]] == [keys.active_kid, thumbprint(previous.public_key())]


BROKEN_KEY_SETTINGS = {
    "missing PEM file": lambda: {"jwt_private_key": "/no/such/file.pem"},
    "not a key": lambda: {"jwt_private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"},
    "RSA 1024": lambda: {"jwt_private_key": private_pem(rsa.generate_private_key(65537, 1024))},
    "not a JWKS": lambda: {"jwt_previous_public_keys": '{"keys": "nope"}'},
    "missing JWKS file": lambda: {"jwt_previous_public_keys": "/no/such/jwks.json"},
}


@pytest.mark.parametrize("name", BROKEN_KEY_SETTINGS)
def test_broken_key_settings_are_clear_start_up_errors(name: str) -> None:
    values = {"jwt_private_key": private_pem(rsa.generate_private_key(65537, 2048)), **BROKEN_KEY_SETTINGS[name]()}
    with pytest.raises(SigningKeyError):
        load_signing_keys(Settings(environment="production", **values))


def test_service_clients_setting() -> None:
    digest = "ab" * 32
    assert parse_service_clients(f"orders:{digest}, carts:{digest.upper()}") == {"orders": digest, "carts": digest}
    assert parse_service_clients("") == {}
    for broken in ("orders", "orders:secret", f":{digest}"):
        with pytest.raises(ServiceClientsError):
            parse_service_clients(broken)
