"""Model resolution: from the ``model`` a client sent to an ordered list of upstream targets.

Rules, in order (docs/config.md "Model names"):
1. a combo name expands to its targets, in order (nested combos expand in place);
2. ``prefix/model``: the prefix is a provider alias, a legacy alias, a provider id or a custom
   connection's alias; every enabled connection with it is a target, best priority first;
3. a bare model name: the provider whose catalog or custom model list has exactly that id;
   when several do, the request must say which (``alias/model``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.snapshot import Snapshot, Upstream

MAX_DEPTH = 3


@dataclass(frozen=True, slots=True)
class Target:
    upstream: Upstream
    model: str  # the model id the upstream is asked for
    label: str = ""  # the combo target (alias/model) it came from, for logs and errors


class ModelNotFoundError(LookupError):
    """No enabled upstream serves this model; the message says how to find one that does."""


def resolve(snapshot: Snapshot, requested: str) -> list[Target]:
    """Every target in configuration order (no strategy applied): see routing.plan."""
    targets: list[Target] = []
    _expand(snapshot, requested, targets, depth=0)
    return targets


def _expand(snapshot: Snapshot, name: str, out: list[Target], depth: int) -> None:
    combo = snapshot.combos.get(name)
    if combo is not None and depth < MAX_DEPTH:
        for target in combo.targets:
            try:
                _expand(snapshot, target, out, depth + 1)
            except ModelNotFoundError:
                continue  # a combo skips targets with no enabled connection
        if not out:
            raise ModelNotFoundError(f"combo {name!r} has no target with an enabled connection")
        return
    model, upstreams = upstreams_for(snapshot, name)
    out.extend(Target(upstream, model, name) for upstream in upstreams)


def upstreams_for(snapshot: Snapshot, name: str) -> tuple[str, tuple[Upstream, ...]]:
    """(upstream model id, the enabled connections that serve it) for a non-combo name."""
    prefix, slash, model = name.partition("/")
    if slash:
        upstreams = snapshot.upstreams_by_prefix.get(prefix)
        if upstreams is None:
            raise ModelNotFoundError(
                f"model {name!r} is not available: no enabled connection has the prefix "
                f"{prefix!r}. GET /v1/models lists the models you can use."
            )
        return model, upstreams
    aliases = snapshot.providers_by_model.get(name, ())
    if len(aliases) == 1:
        return name, snapshot.upstreams_by_prefix[aliases[0]]
    if len(aliases) > 1:
        options = ", ".join(f"{alias}/{name}" for alias in aliases)
        raise ModelNotFoundError(
            f"model {name!r} is offered by several providers; name one: {options}"
        )
    raise ModelNotFoundError(
        f"model {name!r} is not available. Use alias/model (e.g. openai/gpt-4o-mini) or a "
        "combo name; GET /v1/models lists the models you can use."
    )
