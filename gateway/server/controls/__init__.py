"""Behaviour controls: the configured system prompt and thinking mode, applied once to the
client's body, in the client's dialect, before any upstream is tried (docs/routing.md
"Behaviour controls").

Both the same-dialect pass-through and the translation start from the changed body, so
every upstream sees the same request. With every control at its default nothing is parsed
or copied.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import orjson

from gateway.config.snapshot import Snapshot
from gateway.formats.estimate import CHARS_PER_TOKEN, estimate_input_tokens
from gateway.server.controls import prompt, thinking

if TYPE_CHECKING:  # exchange imports this module
    from gateway.server.exchange import ClientCall

_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def system_prefix(snapshot: Snapshot, model: str) -> str:
    """The global system prompt, then that of the combo the client named (directly or
    through a model alias), joined by a blank line."""
    combo = snapshot.combos.get(model)
    if combo is None and (target := snapshot.model_aliases.get(model)) is not None:
        combo = snapshot.combos.get(target)
    configured = snapshot.settings.system_prompt
    of_combo = combo.system_prompt if combo is not None else None
    if configured and of_combo:
        return f"{configured}{prompt.SEPARATOR}{of_combo}"
    return configured or of_combo or ""


def apply_controls(call: ClientCall, snapshot: Snapshot, model: str) -> ClientCall:
    """``call`` with the controls applied; the same object when nothing changes.
    ``model`` is what the client asked for (pin applied, ``[1m]`` removed)."""
    if call.endpoint:
        return call  # token counting counts what the client sent
    settings = snapshot.settings
    mode = settings.thinking_mode
    prefix = system_prefix(snapshot, model)
    if not prefix and mode == thinking.PASSTHROUGH:
        return call
    dialect = call.codec.dialect
    body = call.body
    if prefix:
        body = prompt.BY_DIALECT[dialect](body, prefix)
    if mode != thinking.PASSTHROUGH:
        ceiling = settings.thinking_budget

        def budget() -> int:
            if mode != "adaptive":
                return ceiling
            return thinking.adaptive_budget(_prompt_tokens(call, body), ceiling)

        body = thinking.BY_DIALECT[dialect](body, mode, budget, model)
    if body is call.body:
        return call
    return dataclasses.replace(call, body=body, raw=orjson.dumps(body))


def _prompt_tokens(call: ClientCall, body: dict[str, Any]) -> int:
    """The offline estimate of the prompt (gateway/formats/estimate.py); a body the codec
    cannot read counts one token per 4 bytes."""
    try:
        return estimate_input_tokens(call.codec.request_to_hub(body))
    except _UNREADABLE:
        return len(call.raw) // CHARS_PER_TOKEN
