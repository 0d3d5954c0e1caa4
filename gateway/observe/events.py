"""What the gateway tells its host (the desktop app, the CLI): one small immutable record per
event, delivered through ``GatewayService.subscribe``. Kinds and their ``data``:
docs/notifications.md."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

_NO_DATA: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Event:
    """``kind``: started, stopped, reloaded, provider_down, provider_recovered, login_needed,
    login_restored (and, from the desktop app, gateway_failed); ``detail``: one line for
    people; ``data``: the facts behind it (plain JSON-able values), keyed per kind."""

    kind: str
    detail: str = ""
    data: Mapping[str, object] = field(default_factory=lambda: _NO_DATA)
