"""A Grafana dashboard checked against Grafana's own schemas, as the grafana-foundation-sdk package generates
them into typed models (the Grafana 11.6 schemas): the dashboard, each panel's options and field config by
its panel plugin, each query by its datasource. Decoding keeps only what the schema knows, so a round trip
that loses a key finds a key Grafana would not read; every decoded value is then checked against its
field's type (enums included)."""
from __future__ import annotations

import enum
import json
import types
import typing
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard, Panel

register_default_plugins()  # the panel and datasource variants: without them options stay plain dicts
MODELS = "grafana_foundation_sdk.models."


def problems(dashboard: dict[str, Any]) -> list[str]:
    model = Dashboard.from_json(dashboard)
    found = _lost(dashboard, json.loads(json.dumps(model, cls=JSONEncoder)), "")
    found += _mistyped(model, "")
    for index, panel in enumerate(model.panels or []):
        if isinstance(panel, Panel) and not _is_model(panel.options):
            found.append(f"/panels[{index}]: {panel.type_val!r} is not a panel plugin the schema knows")
    return found


def _is_model(value: object) -> bool:
    return type(value).__module__.startswith(MODELS)


def _lost(given: Any, decoded: Any, path: str) -> list[str]:
    """What the dashboard sets that the decoded model does not have (defaults it adds are fine)."""
    if isinstance(given, dict):
        if not isinstance(decoded, dict):
            return [f"{path}: {given!r} decoded as {decoded!r}"]
        return [problem for key, value in given.items()
                for problem in ([f"{path}/{key}: not in the schema"] if key not in decoded
                                else _lost(value, decoded[key], f"{path}/{key}"))]
    if isinstance(given, list):
        if not isinstance(decoded, list) or len(given) != len(decoded):
            return [f"{path}: {given!r} decoded as {decoded!r}"]
        return [problem for index, (a, b) in enumerate(zip(given, decoded)) for problem in _lost(a, b, f"{path}[{index}]")]
    return [] if given == decoded else [f"{path}: {given!r} decoded as {decoded!r}"]


def _mistyped(model: object, path: str) -> list[str]:
    found = []
    for field, annotation in typing.get_type_hints(type(model)).items():
        found += _check(getattr(model, field), annotation, f"{path}/{field}")
    return found


def _check(value: Any, annotation: Any, path: str) -> list[str]:
    if _is_model(value):
        return _mistyped(value, path)  # whatever the field's annotation: variants are typed `object`
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (Any, object):
        return []
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return []
        attempts = [_check(value, option, path) for option in args if option is not type(None)]
        return [] if any(not attempt for attempt in attempts) else attempts[0]
    if origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r} is none of {args}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [problem for index, item in enumerate(value) for problem in _check(item, args[0], f"{path}[{index}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not an object"]
        return [problem for key, item in value.items() for problem in _check(item, args[1], f"{path}/{key}")]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        allowed = [member.value for member in annotation]
        return [] if value in allowed else [f"{path}: {value!r} is none of {allowed}"]
    if annotation is float:
        return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else [f"{path}: {value!r} is not a number"]
    if annotation is int:
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: {value!r} is not an integer"]
    if isinstance(annotation, type):
        return [] if isinstance(value, annotation) else [f"{path}: {value!r} is not a {annotation.__name__}"]
    return []
