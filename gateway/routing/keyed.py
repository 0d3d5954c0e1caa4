"""What the router's bounded per-key maps share (breakers, cooldowns, statistics, errors)."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any


def discard_matching(entries: MutableMapping[str, Any], matches: Callable[[str], bool]) -> int:
    """Delete every key that ``matches`` (a health reset); returns how many. O(entries)."""
    doomed = [key for key in entries if matches(key)]
    for key in doomed:
        del entries[key]
    return len(doomed)
