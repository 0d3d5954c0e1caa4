"""Model resolution: from the ``model`` a client sent to an ordered list of upstream targets.

Rules, in order (docs/config.md "Model names"):
1. a user model alias is replaced by its target (``alias/model`` or a combo), once: no chains;
2. a combo name expands to its targets (nested combos and aliases in place; ``alias/*``
   stands for every model of that prefix, at most ``MAX_WILDCARD_MODELS``);
3. ``prefix/model``: the prefix is a provider alias, a legacy alias, a provider id or a custom
   connection's alias; every enabled connection with it is a target, best priority first;
4. a bare model name: the provider whose catalog or custom model list has exactly that id;
   when several do, the request must say which (``alias/model``);
5. a bare name no provider lists: ``claude-*``, ``gemini-*``, ``gpt-*``/``chatgpt-*``/``o<digit>``
   go to the anthropic, gemini and openai providers, when they have an enabled connection.

One expansion serves both callers: ``resolve`` keeps configuration order, ``routing.plan``
passes an ``order`` that applies each combo's strategy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.config.repository import ComboRow
from gateway.config.snapshot import Snapshot, Upstream
from gateway.routing.strategies import Candidate

MAX_DEPTH = 3
# A wildcard target stands for at most this many models (the first ones, catalog order first):
# a provider with hundreds of models must not make every request build hundreds of targets.
MAX_WILDCARD_MODELS = 64
WILDCARD = "*"

# Rule 5: bare names no provider lists, by their family's naming (provider ids in the catalog).
_FAMILIES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"claude-"), "anthropic", "claude-*"),
    (re.compile(r"gemini-"), "gemini", "gemini-*"),
    (re.compile(r"(?:chat)?gpt-"), "openai", "gpt-*, chatgpt-*"),
    (re.compile(r"o\d"), "openai", "o<digit>…"),
)


@dataclass(frozen=True, slots=True)
class Target:
    upstream: Upstream
    model: str  # the model id the upstream is asked for
    label: str = ""  # the combo target (alias/model) it came from, for logs and errors


@dataclass(frozen=True, slots=True)
class Group:
    """One resolved name: the connections that serve ``model``, best priority first."""

    label: str
    model: str
    upstreams: tuple[Upstream, ...]


class ModelNotFoundError(LookupError):
    """No enabled upstream serves this model; the message says how to find one that does."""


# Orders one combo's candidates (targets with wildcards already expanded): the fallback order.
OrderTargets = Callable[[ComboRow, list[Candidate]], Sequence[Candidate]]


def _configured_order(combo: ComboRow, candidates: list[Candidate]) -> list[Candidate]:
    return candidates


def resolve(snapshot: Snapshot, requested: str) -> list[Target]:
    """Every target in configuration order (no strategy applied): see routing.plan."""
    return [
        Target(upstream, group.model, group.label)
        for group in expand(snapshot, requested)
        for upstream in group.upstreams
    ]


def expand(
    snapshot: Snapshot, requested: str, order: OrderTargets = _configured_order
) -> list[Group]:
    """The groups ``requested`` stands for, combos ordered by ``order``."""
    out: list[Group] = []
    _expand(snapshot, requested, order, out, depth=0)
    return out


def _expand(
    snapshot: Snapshot, name: str, order: OrderTargets, out: list[Group], depth: int
) -> None:
    aliased = snapshot.model_aliases.get(name)
    if aliased is not None:  # rule 1, once: an alias's target is never looked up as an alias
        try:
            _expand_target(snapshot, aliased, order, out, depth)
        except ModelNotFoundError as exc:
            raise ModelNotFoundError(
                f"model alias {name!r} stands for {aliased!r}: {exc}"
            ) from None
        return
    _expand_target(snapshot, name, order, out, depth)


def _expand_target(
    snapshot: Snapshot, name: str, order: OrderTargets, out: list[Group], depth: int
) -> None:
    combo = snapshot.combos.get(name)
    if combo is not None and depth < MAX_DEPTH:
        before = len(out)
        for candidate in order(combo, combo_candidates(snapshot, combo)):
            try:
                _expand(snapshot, candidate.key, order, out, depth + 1)
            except ModelNotFoundError:
                continue  # a combo skips targets with no enabled connection
        if len(out) == before:
            raise ModelNotFoundError(f"combo {name!r} has no target with an enabled connection")
        return
    model, upstreams = upstreams_for(snapshot, name)
    out.append(Group(name, model, upstreams))


def combo_candidates(snapshot: Snapshot, combo: ComboRow) -> list[Candidate]:
    """The combo's targets as strategy candidates, in list order, wildcards expanded in place.

    The models of one ``alias/*`` share its weight equally (the wildcard as a whole keeps the
    share its weight gives it); each has its own cost; positions follow the expanded list. A
    model the combo also names itself keeps only that place."""
    weights = combo.weights or (1.0,) * len(combo.targets)
    candidates: list[Candidate] = []
    for target, weight in zip(combo.targets, weights, strict=True):
        prefix, slash, model = target.partition("/")
        if slash and model == WILDCARD:
            keys = [f"{prefix}/{each}" for each in wildcard_models(snapshot, prefix)]
            keys = [key for key in keys if key not in combo.targets]
            for key in keys:
                share = weight / len(keys)
                candidates.append(Candidate(key, share, _cost(snapshot, key), len(candidates)))
        else:
            candidates.append(Candidate(target, weight, _cost(snapshot, target), len(candidates)))
    return candidates


def wildcard_models(snapshot: Snapshot, prefix: str) -> list[str]:
    """What ``prefix/*`` stands for: the models of the enabled connections with that prefix,
    catalog models in catalog order, then the connections' own, at most MAX_WILDCARD_MODELS."""
    models: dict[str, None] = {}
    for upstream in snapshot.upstreams_by_prefix.get(prefix, ()):
        # Each connection lists its catalog models first, and connections of one prefix
        # share their catalog entry: merging in order keeps every catalog model first.
        models.update(dict.fromkeys(upstream.model_list))
        if len(models) >= MAX_WILDCARD_MODELS:
            break
    return list(models)[:MAX_WILDCARD_MODELS]


def _cost(snapshot: Snapshot, target: str) -> float | None:
    target = snapshot.model_aliases.get(target, target)
    prefix, slash, model = target.partition("/")
    upstreams = snapshot.upstreams_by_prefix.get(prefix) if slash else None
    if upstreams:  # costs are keyed by the provider's own alias, whatever prefix was written
        return snapshot.costs.get(f"{upstreams[0].alias}/{model}")
    return snapshot.costs.get(target)


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
    return name, _by_family(snapshot, name)


def _by_family(snapshot: Snapshot, name: str) -> tuple[Upstream, ...]:
    for pattern, provider, family in _FAMILIES:
        if pattern.match(name):
            upstreams = tuple(
                u for u in snapshot.upstreams_by_prefix.get(provider, ()) if u.provider == provider
            )
            if upstreams:
                return upstreams
            raise ModelNotFoundError(
                f"model {name!r} is not available: no provider lists it, and the {provider} "
                f"provider ({family} models go there) has no enabled connection. Use "
                "alias/model or a combo name; GET /v1/models lists the models you can use."
            )
    raise ModelNotFoundError(
        f"model {name!r} is not available. Use alias/model (e.g. openai/gpt-4o-mini) or a "
        "combo name; GET /v1/models lists the models you can use."
    )
