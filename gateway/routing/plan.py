"""The order a request tries its upstreams: combo strategy over targets, account strategy
over the connections of each target (docs/routing.md)."""

from __future__ import annotations

from gateway.config.repository import ComboRow
from gateway.config.snapshot import Snapshot
from gateway.routing.resolve import Target, expand
from gateway.routing.router import Router, connection_key
from gateway.routing.strategies import Candidate, order_accounts, order_targets


def plan(snapshot: Snapshot, requested: str, router: Router) -> list[Target]:
    def by_strategy(combo: ComboRow, candidates: list[Candidate]) -> list[Candidate]:
        return order_targets(
            combo.strategy, candidates, router, router.rng, router.round_robin, key=combo.name
        )

    settings = snapshot.settings
    fill_first = settings.account_strategy == "fill-first"
    is_open = router.breakers.is_open
    targets: list[Target] = []
    for group in expand(snapshot, requested, by_strategy):
        upstreams = group.upstreams
        if fill_first and not any(is_open(connection_key(u.connection_id)) for u in upstreams):
            # The common case, without candidates: fill-first keeps the configured order
            # when no account's breaker is open (strategies.md, common rule 2).
            targets += [Target(u, group.model, group.label) for u in upstreams]
            continue
        by_key = {connection_key(u.connection_id): u for u in upstreams}
        candidates = [Candidate(key, position=i) for i, key in enumerate(by_key)]
        ordered = order_accounts(
            settings.account_strategy,
            candidates,
            router,
            router.rng,
            router.sticky,
            key=group.label,
            sticky_uses=settings.sticky_uses,
        )
        targets += [Target(by_key[c.key], group.model, group.label) for c in ordered]
    return targets
