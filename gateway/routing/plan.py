"""The order a request tries its upstreams: combo strategy over targets, account strategy
over the connections of each target (docs/routing.md)."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.config.snapshot import Snapshot, Upstream
from gateway.routing.resolve import MAX_DEPTH, ModelNotFoundError, Target, upstreams_for
from gateway.routing.router import Router, connection_key
from gateway.routing.strategies import Candidate, order_accounts, order_targets


def plan(snapshot: Snapshot, requested: str, router: Router) -> list[Target]:
    groups: list[tuple[str, str, Sequence[Upstream]]] = []
    _expand(snapshot, requested, router, groups, depth=0)
    settings = snapshot.settings
    targets: list[Target] = []
    for label, model, upstreams in groups:
        by_key = {connection_key(u.connection_id): u for u in upstreams}
        candidates = [Candidate(key, position=i) for i, key in enumerate(by_key)]
        ordered = order_accounts(
            settings.account_strategy,
            candidates,
            router,
            router.rng,
            router.sticky,
            key=label,
            sticky_uses=settings.sticky_uses,
        )
        targets += [Target(by_key[c.key], model, label) for c in ordered]
    return targets


def _expand(
    snapshot: Snapshot,
    name: str,
    router: Router,
    out: list[tuple[str, str, Sequence[Upstream]]],
    depth: int,
) -> None:
    combo = snapshot.combos.get(name)
    if combo is not None and depth < MAX_DEPTH:
        weights = combo.weights or (1.0,) * len(combo.targets)
        candidates = [
            Candidate(target, weight=weight, position=i, cost_per_mtok=snapshot.costs.get(target))
            for i, (target, weight) in enumerate(zip(combo.targets, weights, strict=True))
        ]
        before = len(out)
        for candidate in order_targets(
            combo.strategy, candidates, router, router.rng, router.round_robin, key=combo.name
        ):
            try:
                _expand(snapshot, candidate.key, router, out, depth + 1)
            except ModelNotFoundError:
                continue  # a combo skips targets with no enabled connection
        if len(out) == before:
            raise ModelNotFoundError(f"combo {name!r} has no target with an enabled connection")
        return
    model, upstreams = upstreams_for(snapshot, name)
    out.append((name, model, upstreams))
