"""One request's attempts: what each failure does to the router (cooldown, breaker, stats),
and the final error listing every attempt when none succeeded (docs/routing.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gateway.routing.failures import Action, Failure, FailureClass, action_for
from gateway.routing.resolve import Target
from gateway.routing.retry_after import backoff_seconds
from gateway.routing.router import Router, connection_key, model_key
from gateway.routing.stats import StatsToken

BACKOFF_CAP_S = 300.0
# Failures that say something about the whole account; the others (rate limits, overloaded or
# failing models) cool down only that model on that account.
ACCOUNT_WIDE = frozenset(
    {FailureClass.CREDITS_EXHAUSTED, FailureClass.QUOTA_EXHAUSTED, FailureClass.AUTH_EXPIRED}
)


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    target: str  # alias/model
    connection: str
    provider: str  # display name
    status: int | None
    reason: str
    retry_at: float | None


@dataclass(frozen=True, slots=True)
class AttemptToken:
    """One attempt's statistics: its connection's, read by the account strategies, and its
    combo target's (alias/model), read by the combo strategies."""

    connection: StatsToken
    target: StatsToken


@dataclass
class Attempts:
    router: Router
    limit: int
    records: list[AttemptRecord] = field(default_factory=list)
    skipped: list[AttemptRecord] = field(default_factory=list)
    tried: int = 0

    @property
    def exhausted(self) -> bool:
        return self.tried >= self.limit

    def start(self, target: Target) -> AttemptToken:
        self.tried += 1
        stats = self.router.stats
        if target.label:
            self.router.note_target(target.label, target.upstream.provider)
        return AttemptToken(
            stats.start(connection_key(target.upstream.connection_id)),
            stats.start(target.label or target.model),
        )

    def _finish(self, token: AttemptToken, ok: bool, latency_ms: float) -> None:
        stats = self.router.stats
        stats.finish(token.connection, ok, latency_ms)
        stats.finish(token.target, ok, latency_ms)

    def skip(self, target: Target, why: str, retry_at: float | None = None) -> None:
        cooldowns = self.router.cooldowns
        upstream = target.upstream
        until = (
            retry_at
            or cooldowns.until(connection_key(upstream.connection_id))
            or cooldowns.until(model_key(upstream.connection_id, target.model))
        )
        self.skipped.append(
            AttemptRecord(
                target.label,
                target.upstream.connection,
                target.upstream.provider_name,
                None,
                why,
                until,
            )
        )

    def succeeded(self, target: Target, token: AttemptToken, latency_ms: float) -> None:
        upstream = target.upstream
        self._finish(token, True, latency_ms)
        self.router.cooldowns.clear(model_key(upstream.connection_id, target.model))
        self.router.outcome(upstream.connection_id, upstream.provider, ok=True)

    def failed(
        self, target: Target, failure: Failure, token: AttemptToken, latency_ms: float
    ) -> Action:
        """Apply the failure's action to the router; the action says where to go next."""
        upstream = target.upstream
        router = self.router
        action = action_for(failure.cls)
        self._finish(token, False, latency_ms)
        router.outcome(
            upstream.connection_id,
            upstream.provider,
            ok=False if action.counts_for_breaker else None,
            reason=f"{failure.cls}: {failure.message[:120]}",
        )
        key = connection_key(upstream.connection_id)
        if failure.cls not in ACCOUNT_WIDE:
            key = model_key(upstream.connection_id, target.model)
        retry_at = failure.retry_at
        if action.cooldown != "none":
            cooldowns = router.cooldowns
            level = cooldowns.level(key)
            now = router.clock()
            backoff_until = cooldowns.until(key)
            if backoff_until is not None:
                # Sent before the key began cooling down (a concurrent request): the same
                # episode, so the backoff must not escalate once per request in flight.
                level = max(level - 1, 0)
            else:
                backoff_until = now + backoff_seconds(level, cap=BACKOFF_CAP_S)
            until = retry_at if retry_at is not None else backoff_until
            if action.cooldown == "until_reset" or retry_at is None or until > now:
                cooldowns.set(key, until, str(failure.cls), level + 1)
                retry_at = until
        self.records.append(
            AttemptRecord(
                target.label,
                upstream.connection,
                upstream.provider_name,
                failure.status,
                f"{failure.cls}: {failure.message}",
                retry_at,
            )
        )
        return action

    def earliest_retry(self) -> float | None:
        times = [r.retry_at for r in (*self.records, *self.skipped) if r.retry_at is not None]
        return min(times) if times else None

    def summary(self, model: str) -> tuple[int, str, str, float | None]:
        """(status, code, message, seconds until the earliest retry) for the final error."""
        now = self.router.clock()
        earliest = self.earliest_retry()
        wait = max(0.0, earliest - now) if earliest is not None else None
        lines = []
        for record in self.records:
            status = record.status if record.status is not None else "no response"
            lines.append(
                f"{record.target} via {record.connection!r}: {status} {record.reason[:200]}"
            )
        for record in self.skipped:
            lines.append(f"{record.target} via {record.connection!r}: skipped ({record.reason})")
        if self.exhausted and self.records:
            lines.append(f"stopped after {self.limit} attempts (setting max_attempts)")
        status = _final_status(self.records)
        if len(self.records) == 1 and not self.skipped and self.records[0].status is None:
            # One attempt that got no answer: say so plainly, the way the user will read it.
            only = self.records[0]
            reason = only.reason.split(": ", 1)[-1]
            code = "upstream_timeout" if status == 504 else "upstream_unreachable"
            return (
                status,
                code,
                (f"Upstream {only.provider} (connection {only.connection!r}) {reason}."),
                wait,
            )
        head = (
            f"No upstream could serve {model!r} ({len(self.records)} attempt(s), "
            f"{len(self.skipped)} skipped)"
        )
        if wait is not None:
            head += f"; the earliest retry is in {math.ceil(wait)} s"
        return status, "all_targets_failed", head + ": " + "; ".join(lines), wait


def _final_status(records: list[AttemptRecord]) -> int:
    if not records:
        return 503  # everything was cooling down or behind an open breaker
    last = records[-1]
    if last.status is not None and last.status >= 400:
        return last.status
    if last.status is not None:
        return 502  # a 2xx that was empty or not the dialect's shape: a bad upstream answer
    return 504 if last.reason.startswith(str(FailureClass.TIMEOUT)) else 502
