"""/internal/auth/token: client-credentials tokens for the other services (never routed by the Ingress)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint

from storefront_common.errors import ProblemError
from storefront_common.openapi import operation

from ..dependencies import deps
from ..issued_tokens import issue_service_token
from ..schemas import ServiceTokenIn, ServiceTokenOut
from ..service_clients import credentials_valid

blueprint = Blueprint("internal", __name__, url_prefix="/internal/auth")


@blueprint.post("/token")
@operation("Service token for a configured client (OAuth 2 client credentials)", body=ServiceTokenIn,
           response=ServiceTokenOut, errors=(401,))
def service_token(body: ServiceTokenIn) -> dict[str, Any]:
    if not credentials_valid(deps().service_clients, body.client_id, body.client_secret):
        raise ProblemError(401, "Unknown client or wrong secret.", extra={"error": "invalid_client"},
                           headers={"WWW-Authenticate": 'Basic realm="storefront-internal"'})
    return issue_service_token(body.client_id)
