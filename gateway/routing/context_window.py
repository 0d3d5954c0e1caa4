"""A prompt too long for one model fits only a model with a larger context window.

After a failure whose action says ``needs_larger_context`` (class ``context_too_long``), the
rest of the request's plan skips every target whose known context window is not larger than
the largest known window that already failed; a target whose window is unknown (a custom
model, a catalog entry without one) is still tried (docs/routing/failures.md).
"""

from __future__ import annotations

from gateway.routing.failures import Action
from gateway.routing.resolve import Target


def window_of(target: Target) -> int | None:
    """The target model's context window in tokens, from the catalog; None when unknown."""
    return target.upstream.context_windows.get(target.model)


class ContextFloor:
    """One request's lower bound on the context window a target needs."""

    __slots__ = ("failed",)

    def __init__(self) -> None:
        self.failed: int | None = None  # the largest known window the prompt did not fit

    def note(self, target: Target, action: Action) -> None:
        """Learn from a failed attempt (only context failures of a known window teach)."""
        if not action.needs_larger_context:
            return
        window = window_of(target)
        if window is not None and (self.failed is None or window > self.failed):
            self.failed = window

    def too_small(self, target: Target) -> str | None:
        """Why ``target`` cannot fit the prompt (the skip reason), or None to try it."""
        if self.failed is None:
            return None
        window = window_of(target)
        if window is None or window > self.failed:
            return None
        return f"context window {window} ≤ {self.failed} tokens that already failed"
