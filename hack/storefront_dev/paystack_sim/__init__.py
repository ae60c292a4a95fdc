"""Paystack simulator for development and tests: see README.md."""

from .app import create_app
from .config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_app"]
