"""/.well-known/jwks.json: the public keys that verify this service's tokens (active and previous)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from storefront_common.openapi import operation

from ..dependencies import deps
from ..schemas import JwksOut

blueprint = Blueprint("jwks", __name__)


@blueprint.get("/.well-known/jwks.json")
@operation("Public signing keys (JWKS): the active key and, during a rotation, the previous one",
           response=JwksOut)
def jwks() -> Response:
    response = jsonify(deps().keys.jwks())
    # Verifiers cache it anyway; a short max-age keeps a rotation visible within minutes.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
