"""Client credentials of the other services: SERVICE_CLIENTS="orders:<sha256 hex of secret>,carts:<...>"."""
from __future__ import annotations

import hashlib
import hmac
import re

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# Compared against when the client id is unknown, so unknown and known ids take the same time.
_NO_CLIENT = "0" * 64


class ServiceClientsError(RuntimeError):
    """SERVICE_CLIENTS is malformed; the service refuses to start rather than lock every service out."""


def parse_service_clients(value: str) -> dict[str, str]:
    clients: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        client_id, separator, secret_hash = entry.partition(":")
        secret_hash = secret_hash.strip().lower()
        if not separator or not client_id.strip() or not _SHA256_HEX.match(secret_hash):
            raise ServiceClientsError("SERVICE_CLIENTS entries must look like client_id:<64 hex digits of sha256>")
        clients[client_id.strip()] = secret_hash
    return clients


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def credentials_valid(clients: dict[str, str], client_id: str, client_secret: str) -> bool:
    expected = clients.get(client_id, _NO_CLIENT)
    matches = hmac.compare_digest(secret_hash(client_secret), expected)
    return matches and client_id in clients
