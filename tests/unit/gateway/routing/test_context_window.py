"""After "context too long", only targets with a larger known window are tried."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.snapshot import Snapshot
from gateway.routing.context_window import ContextFloor, window_of
from gateway.routing.failures import FailureClass, action_for
from gateway.routing.resolve import Target, resolve
from tests.support.routing import build_routing_snapshot, connection

TOO_LONG = action_for(FailureClass.CONTEXT_TOO_LONG)


@pytest.fixture
def snapshot(tmp_path: Path) -> Snapshot:
    return build_routing_snapshot(
        tmp_path,
        (
            connection("groq", "groq"),  # llama-3.3-70b-versatile, openai/gpt-oss-20b: 131072
            connection("mistral", "mistral"),  # codestral-latest 256000, mistral-large-4 524288
            connection("lab", "custom", alias="lab", dialect="openai", models=("big",)),
        ),
    )


def target(snapshot: Snapshot, name: str) -> Target:
    return resolve(snapshot, name)[0]


def test_windows_come_from_the_catalog(snapshot: Snapshot) -> None:
    assert window_of(target(snapshot, "groq/llama-3.3-70b-versatile")) == 131072
    assert window_of(target(snapshot, "mistral/codestral-latest")) == 256000
    assert window_of(target(snapshot, "lab/big")) is None  # custom models have no window
    assert window_of(target(snapshot, "mistral/not-in-catalog")) is None


def test_nothing_is_skipped_before_a_context_failure(snapshot: Snapshot) -> None:
    floor = ContextFloor()
    assert floor.too_small(target(snapshot, "groq/openai/gpt-oss-20b")) is None


def test_a_context_failure_skips_windows_that_are_not_larger(snapshot: Snapshot) -> None:
    floor = ContextFloor()
    floor.note(target(snapshot, "groq/llama-3.3-70b-versatile"), TOO_LONG)
    assert floor.too_small(target(snapshot, "groq/openai/gpt-oss-20b")) == (
        "context window 131072 ≤ 131072 tokens that already failed"
    )
    assert floor.too_small(target(snapshot, "mistral/codestral-latest")) is None
    assert floor.too_small(target(snapshot, "lab/big")) is None  # unknown: try it


def test_the_largest_failed_window_counts(snapshot: Snapshot) -> None:
    floor = ContextFloor()
    floor.note(target(snapshot, "mistral/codestral-latest"), TOO_LONG)
    floor.note(target(snapshot, "groq/llama-3.3-70b-versatile"), TOO_LONG)  # smaller: no change
    assert floor.failed == 256000
    assert floor.too_small(target(snapshot, "groq/openai/gpt-oss-20b")) == (
        "context window 131072 ≤ 256000 tokens that already failed"
    )
    assert floor.too_small(target(snapshot, "mistral/mistral-large-4")) is None


def test_only_context_failures_of_a_known_window_teach(snapshot: Snapshot) -> None:
    floor = ContextFloor()
    for cls in FailureClass:
        if cls is not FailureClass.CONTEXT_TOO_LONG:
            floor.note(target(snapshot, "mistral/codestral-latest"), action_for(cls))
    floor.note(target(snapshot, "lab/big"), TOO_LONG)  # unknown window: nothing to compare
    assert floor.failed is None
    assert floor.too_small(target(snapshot, "groq/openai/gpt-oss-20b")) is None
