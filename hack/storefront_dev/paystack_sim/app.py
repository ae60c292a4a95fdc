"""App factory of the Paystack simulator."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from . import api, checkout, control
from .config import SimulatorConfig
from .state import Store


def create_app(config: SimulatorConfig) -> Flask:
    if not config.secret_key:
        raise ValueError("SimulatorConfig.secret_key is required")
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["paystack_sim.config"] = config
    app.extensions["paystack_sim.store"] = Store()
    app.register_blueprint(api.bp)
    app.register_blueprint(checkout.bp)
    app.register_blueprint(control.bp)
    app.register_error_handler(HTTPException, _http_error)
    return app


def _http_error(error: HTTPException) -> Response | HTTPException:
    # Unknown API routes answer in Paystack's JSON shape; the browser-facing
    # checkout pages keep HTML errors.
    if request.path.startswith("/checkout/"):
        return error
    response = jsonify({"status": False, "message": error.description or error.name})
    response.status_code = error.code or 500
    return response
