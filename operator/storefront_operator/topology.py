"""The services and the edges between them, read from where they are stated: the chart's values
(charts/storefront/values.yaml, `default` and `components.<name>`). The operator, the local runner
and gateway and `cluster deploy` all read them from here."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Component:
    name: str
    routes: tuple[str, ...]  # public path prefixes the Ingress sends to it
    calls: tuple[str, ...]  # components it sends requests to
    threads: int
    cron_jobs: tuple[str, ...]  # flask commands run on a schedule (the enabled ones)
    service_client: bool = True  # gets client credentials (service tokens); web calls only with users' tokens


@dataclass(frozen=True)
class Topology:
    components: tuple[Component, ...]  # in components.<name>.order

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(component.name for component in self.components)

    @property
    def routes(self) -> tuple[tuple[str, str], ...]:
        """(path prefix, component), the Ingress's table."""
        return tuple((prefix, component.name) for component in self.components for prefix in component.routes)

    @property
    def service_clients(self) -> tuple[str, ...]:
        """The components the users service issues service tokens to."""
        return tuple(component.name for component in self.components if component.service_client)


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base` as the chart's storefront.mergeValues does: maps merge, the rest is replaced."""
    result = dict(base)
    for key, value in over.items():
        result[key] = merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) \
            else value
    return result


def load(chart_dir: Path) -> Topology:
    values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    components = []
    for name, own in sorted(values["components"].items(), key=lambda item: item[1]["order"]):
        component = merged(values["default"], own)
        components.append(Component(
            name=name,
            routes=tuple(component["routes"]),
            calls=tuple(component["calls"]),
            threads=int(component["threads"]),
            cron_jobs=tuple(command for command, job in (component.get("cronJobs") or {}).items() if job.get("enabled")),
            service_client=bool(component.get("serviceClient", True)),
        ))
    return Topology(tuple(components))
