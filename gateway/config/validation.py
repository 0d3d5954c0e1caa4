"""Cross-field checks of configuration entries against the catalog and the current state.

Each check returns problems as strings that name the field, so an import can report all of
them at once and change nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence

from gateway.config.file_format import ComboEntry, ConnectionEntry
from gateway.providers.catalog import Catalog

MAX_COMBO_DEPTH = 3


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, require_api_key: bool) -> str | None:
    if not require_api_key and not is_loopback_host(host):
        return (
            f"binding to {host} (reachable from the network) requires client API keys: "
            "set require_api_key = true, or bind to 127.0.0.1"
        )
    return None


def check_connection(
    entry: ConnectionEntry, catalog: Catalog, where: str, *, has_stored_key: bool = False
) -> list[str]:
    problems: list[str] = []
    if entry.provider == "custom":
        for attr in ("dialect", "alias", "base_url"):
            if getattr(entry, attr) is None:
                problems.append(f"{where}.{attr}: required for a custom provider")
        if entry.alias and (clash := catalog.by_alias(entry.alias)) is not None:
            problems.append(
                f"{where}.alias: {entry.alias!r} is already the prefix of "
                f"{clash.name}; choose another"
            )
        return problems
    info = catalog.get(entry.provider)
    if info is None or info.custom:
        known = ", ".join(sorted(p.id for p in catalog.providers if not p.custom))
        return [
            f"{where}.provider: unknown provider {entry.provider!r} "
            f'(use "custom" or one of: {known})'
        ]
    for attr in ("dialect", "alias"):
        if getattr(entry, attr) is not None:
            problems.append(
                f"{where}.{attr}: only custom providers set this "
                f"({info.name} speaks {info.dialect} as {info.alias}/…)"
            )
    if info.key_required and not entry.api_key and not has_stored_key:
        problems.append(f"{where}.api_key: {info.name} needs an API key")
    return problems


def check_custom_aliases(entries: Iterable[tuple[str, ConnectionEntry]]) -> list[str]:
    """Connections sharing a custom alias are accounts of one provider: same dialect."""
    seen: dict[str, str] = {}
    problems = []
    for where, entry in entries:
        if entry.provider != "custom" or not entry.alias or not entry.dialect:
            continue
        first = seen.setdefault(entry.alias, entry.dialect)
        if first != entry.dialect:
            problems.append(
                f"{where}.dialect: alias {entry.alias!r} is already used by a {first} connection"
            )
    return problems


def check_combos(
    combos: Sequence[tuple[str, ComboEntry]],
    catalog: Catalog,
    custom_aliases: Iterable[str],
    existing_combos: Mapping[str, Sequence[str]],
) -> list[str]:
    """Targets must name a known prefix or combo; nesting is acyclic and at most 3 deep."""
    prefixes = {p.alias for p in catalog.providers if not p.custom}
    prefixes |= {p.id for p in catalog.providers if not p.custom}
    prefixes |= {a for p in catalog.providers for a in p.legacy_aliases}
    prefixes |= set(custom_aliases)
    graph: dict[str, Sequence[str]] = dict(existing_combos)
    graph.update({entry.name: entry.targets for _, entry in combos})
    problems = []
    for where, entry in combos:
        for index, target in enumerate(entry.targets):
            if "/" in target:
                prefix, model = target.split("/", 1)
                if not model:
                    problems.append(f"{where}.targets[{index}]: {target!r} has no model name")
                elif prefix not in prefixes:
                    problems.append(
                        f"{where}.targets[{index}]: {target!r}: no provider or "
                        f"custom connection has the prefix {prefix!r}"
                    )
            elif target not in graph:
                problems.append(f"{where}.targets[{index}]: {target!r} is not a combo")
        if (cycle := _find_cycle(entry.name, graph)) is not None:
            problems.append(
                f"{where}.targets: combos may not contain themselves ({' → '.join(cycle)})"
            )
        elif (depth := _depth(entry.name, graph)) > MAX_COMBO_DEPTH:
            problems.append(
                f"{where}.targets: combos nest {depth} deep; "
                f"at most {MAX_COMBO_DEPTH} levels are allowed"
            )
    return problems


def _find_cycle(start: str, graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        path.append(name)
        for target in graph.get(name, ()):
            if "/" not in target and target in graph and (found := visit(target)):
                return found
        path.pop()
        return None

    return visit(start)


def _depth(name: str, graph: Mapping[str, Sequence[str]]) -> int:
    children = [t for t in graph.get(name, ()) if "/" not in t and t in graph]
    return 1 + max((_depth(child, graph) for child in children), default=0)
