"""Cross-field checks of configuration entries against the catalog and the current state.

Each check returns problems as strings that name the field, so an import can report all of
them at once and change nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import get_args

from gateway.config.file_format import BudgetEntry, ComboEntry, ConnectionEntry, QuotaEntry
from gateway.providers.catalog import Catalog, Tier

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
    model_aliases: Iterable[str] = (),
) -> list[str]:
    """Targets name a known prefix (``alias/model`` or ``alias/*``), a combo or a user model
    alias; nesting is acyclic and at most 3 deep."""
    prefixes = known_prefixes(catalog, custom_aliases)
    user_aliases = set(model_aliases)
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
            elif target not in graph and target not in user_aliases:
                problems.append(
                    f"{where}.targets[{index}]: {target!r} is neither a combo nor a model alias"
                )
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


def known_prefixes(catalog: Catalog, custom_aliases: Iterable[str]) -> set[str]:
    prefixes = {p.alias for p in catalog.providers if not p.custom}
    prefixes |= {p.id for p in catalog.providers if not p.custom}
    prefixes |= {a for p in catalog.providers for a in p.legacy_aliases}
    return prefixes | set(custom_aliases)


def check_model_aliases(
    aliases: Mapping[str, str],
    catalog: Catalog,
    custom_aliases: Iterable[str],
    combo_names: Iterable[str],
    where: str = "model_aliases",
) -> list[str]:
    """An alias names alias/model or a combo, and is not itself a combo's name."""
    prefixes = known_prefixes(catalog, custom_aliases)
    combos = set(combo_names)
    problems = []
    for name, target in aliases.items():
        if name in combos:
            problems.append(f"{where}.{name}: a combo has that name; choose another")
        if "/" in target:
            prefix, model = target.split("/", 1)
            if not model or model == "*":
                problems.append(f"{where}.{name}: {target!r} must name one model")
            elif prefix not in prefixes:
                problems.append(
                    f"{where}.{name}: {target!r}: no provider or custom connection has the "
                    f"prefix {prefix!r}"
                )
        elif target not in combos:
            problems.append(f"{where}.{name}: {target!r} is neither alias/model nor a combo")
    return problems


def check_providers(provider_ids: Iterable[str], catalog: Catalog, where: str) -> list[str]:
    problems = []
    for provider in provider_ids:
        info = catalog.get(provider)
        if info is None or info.custom:
            problems.append(
                f"{where}.{provider}: unknown provider (see `switchboard provider list`)"
            )
    return problems


def price_key(
    name: str, catalog: Catalog, custom_aliases: Iterable[str]
) -> tuple[str | None, str | None]:
    """(the canonical "alias/model" of a price override, None) or (None, the problem).

    A catalog prefix (alias, legacy alias or id) becomes the provider's alias, the prefix
    requests are priced under; a custom connection's alias stays as it is."""
    prefix, slash, model = name.partition("/")
    if not slash or not prefix or not model or any(ch.isspace() for ch in name):
        return None, f"{name!r}: name a model as alias/model (or alias/* for all its models)"
    info = catalog.by_alias(prefix)
    if info is not None and not info.custom:
        return f"{info.alias}/{model}", None
    if prefix in set(custom_aliases):
        return name, None
    return None, (
        f"{name!r}: unknown prefix {prefix!r} (a provider alias from `switchboard provider "
        "list`, or a custom connection's alias)"
    )


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


def check_quotas(
    entries: Sequence[tuple[str, QuotaEntry]], connections: Iterable[str]
) -> list[str]:
    """Each window names a known connection, once per kind."""
    known = set(connections)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for where, entry in entries:
        if entry.connection not in known:
            problems.append(
                f"{where}.connection: no connection named {entry.connection!r} "
                "(see `switchboard connection list`)"
            )
        if (entry.connection, entry.window) in seen:
            problems.append(f"{where}: a second {entry.window} window for {entry.connection!r}")
        seen.add((entry.connection, entry.window))
    return problems


def check_budgets(
    entries: Sequence[tuple[str, BudgetEntry]],
    catalog: Catalog,
    connections: Iterable[str],
    keys: Iterable[str],
) -> list[str]:
    """Each budget names something that exists: a connection, a catalog provider, a tier or
    an active client key."""
    known = {
        "connection": set(connections),
        "provider": {p.id for p in catalog.providers if not p.custom},
        "tier": set(get_args(Tier)),
        "key": set(keys),
    }
    problems: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for where, entry in entries:
        names = known[entry.scope]
        if entry.name not in names:
            problems.append(
                f"{where}.name: no {entry.scope} named {entry.name!r} "
                f"(known: {', '.join(sorted(names)) or 'none'})"
            )
        if (entry.scope, entry.name, entry.period) in seen:
            problems.append(f"{where}: a second {entry.period} budget for {entry.name!r}")
        seen.add((entry.scope, entry.name, entry.period))
    return problems
