"""The failure rule table: classes, per-class actions, and the rules that pick a class.

The data lives in ``resources/failure_rules.toml`` (found like the provider catalog: the
shipped resources folder or ``$SWITCHBOARD_RESOURCES``) and is validated with pydantic when
first used. Importing this module reads nothing; :func:`default_table` loads on first use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator

from gateway.resources import read_toml, resource_path

RULES_FILE: Final = "failure_rules.toml"
_UPPER_OUTSIDE_ESCAPE: Final = re.compile(r"(?<!\\)[A-Z]")
_GLOBAL_FLAGS: Final = re.compile(r"\(\?[a-z]+\)")

Cooldown = Literal["until_reset", "backoff", "none"]


class FailureClass(StrEnum):
    CREDITS_EXHAUSTED = "credits_exhausted"
    QUOTA_EXHAUSTED = "quota_exhausted"
    RATE_LIMITED = "rate_limited"
    AUTH_EXPIRED = "auth_expired"
    CONTEXT_TOO_LONG = "context_too_long"
    MALFORMED_REQUEST = "malformed_request"
    MODEL_NOT_FOUND = "model_not_found"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    EMPTY_RESPONSE = "empty_response"
    OTHER = "other"


class FailureRulesError(Exception):
    """The failure rule table could not be read or is invalid; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Action:
    """What the router does after a failure of one class (docs/routing/failures.md)."""

    cooldown: Cooldown
    next_account: bool
    next_target: bool
    counts_for_breaker: bool
    refresh_auth: bool
    needs_larger_context: bool


@dataclass(frozen=True, slots=True)
class Rule:
    cls: FailureClass
    pattern: re.Pattern[str] | None
    status: frozenset[int] | None
    # The pattern's top-level alternatives compiled one by one: a lone alternative that starts
    # with a literal is found with a fast prefix scan, while one big alternation makes the
    # engine try every position (measured 2-3x slower on real error bodies).
    alternatives: tuple[re.Pattern[str], ...] = ()

    def matches(self, lowered: str) -> bool:
        if self.alternatives:
            return any(alternative.search(lowered) for alternative in self.alternatives)
        return self.pattern is not None and self.pattern.search(lowered) is not None


def split_alternatives(pattern: str) -> list[str]:
    """The top-level ``|`` branches of a regular expression (outside groups and classes)."""
    branches: list[str] = []
    depth = 0
    start = 0
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith(("[]", "[^]"), index):  # a leading ] is a literal
                index += 2 if pattern[index + 1] == "]" else 3
                continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
        index += 1
    branches.append(pattern[start:])
    return branches


def _compile_alternatives(pattern: str) -> tuple[re.Pattern[str], ...]:
    if _GLOBAL_FLAGS.match(pattern):  # "(?x)..." applies to every branch: keep it whole
        return (re.compile(pattern),)
    try:
        parts = tuple(re.compile(part) for part in split_alternatives(pattern))
    except re.error:  # a branch that needs the others (a backreference): keep it whole
        return (re.compile(pattern),)
    return parts if all(part.pattern for part in parts) else (re.compile(pattern),)


class _RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    cls: FailureClass = Field(alias="class")
    pattern: str | None = Field(default=None, min_length=1)
    status: list[Annotated[int, Strict()]] | None = Field(default=None, min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return value
        # Bodies are lowercased once and matched case-sensitively (several times faster than
        # re.IGNORECASE), so an uppercase letter could never match; escapes such as \W are fine.
        if upper := _UPPER_OUTSIDE_ESCAPE.search(value):
            raise ValueError(
                f"write patterns in lowercase (bodies are lowercased before matching); "
                f"found {upper.group()!r} at {upper.start()}"
            )
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("status")
    @classmethod
    def _statuses(cls, value: list[int] | None) -> list[int] | None:
        for status in value or ():
            if not 100 <= status <= 599:
                raise ValueError(f"{status!r} is not an HTTP status (100-599)")
        return value


class _ActionModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    cooldown: Cooldown
    next_account: bool
    next_target: bool
    counts_for_breaker: bool
    refresh_auth: bool
    needs_larger_context: bool


class FailureTable:
    """Validated rules in evaluation order (pattern rules, then status-only) and actions."""

    __slots__ = ("_actions", "_pattern_rules", "_status_map", "_status_rules")

    def __init__(self, rules: tuple[Rule, ...], actions: Mapping[FailureClass, Action]) -> None:
        missing = [cls.value for cls in FailureClass if cls not in actions]
        if missing:
            raise FailureRulesError(f"no [actions.<class>] table for {missing}")
        self._actions = dict(actions)
        self._pattern_rules = tuple(r for r in rules if r.pattern is not None)
        self._status_rules = tuple(r for r in rules if r.pattern is None)
        # Status-only rules collapse into one lookup; the first rule naming a status wins.
        self._status_map: dict[int, FailureClass] = {}
        for rule in self._status_rules:
            for status in sorted(rule.status or ()):
                self._status_map.setdefault(status, rule.cls)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule in evaluation order."""
        return self._pattern_rules + self._status_rules

    def action(self, cls: FailureClass) -> Action:
        return self._actions[cls]

    def match(self, status: int | None, lowered: str) -> FailureClass:
        """The class of the first matching rule: text patterns first, then status; else other.

        ``lowered`` is the body text already lowercased (``ErrorBody.lower``).
        """
        if lowered:
            for rule in self._pattern_rules:
                if rule.status is not None and status not in rule.status:
                    continue
                if rule.matches(lowered):
                    return rule.cls
        if status is not None:
            return self._status_map.get(status, FailureClass.OTHER)
        return FailureClass.OTHER


def _describe(exc: ValidationError) -> str:
    parts: list[str] = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(item) for item in error["loc"])
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "value_error":
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            message = error["msg"]
            given = error.get("input")
            if isinstance(given, str | int | float | bool):
                message += f" (got {given!r})"
        parts.append(f"field '{path}': {message}" if path else message)
    return "; ".join(parts)


def parse_table(data: Mapping[str, Any], source: str = "<failure rules>") -> FailureTable:
    """Validate the parsed TOML document into a :class:`FailureTable`."""
    if unknown := sorted(set(data) - {"rules", "actions"}):
        raise FailureRulesError(f"{source}: unknown top-level key(s) {unknown}")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise FailureRulesError(f"{source}: no [[rules]] tables")
    raw_actions = data.get("actions")
    if not isinstance(raw_actions, dict):
        raise FailureRulesError(f"{source}: no [actions.<class>] tables")
    problems: list[str] = []
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules):
        try:
            model = _RuleModel.model_validate(raw)
        except ValidationError as exc:
            problems.append(f"rules[{index}]: {_describe(exc)}")
            continue
        if model.pattern is None and model.status is None:
            problems.append(f"rules[{index}]: needs a 'pattern', a 'status' list, or both")
            continue
        pattern = re.compile(model.pattern) if model.pattern else None
        status = frozenset(model.status) if model.status is not None else None
        alternatives = _compile_alternatives(model.pattern) if model.pattern else ()
        rules.append(Rule(model.cls, pattern, status, alternatives))
    actions: dict[FailureClass, Action] = {}
    for name, raw in raw_actions.items():
        try:
            cls = FailureClass(name)
        except ValueError:
            problems.append(f"actions.{name}: unknown failure class")
            continue
        try:
            model_action = _ActionModel.model_validate(raw)
        except ValidationError as exc:
            problems.append(f"actions.{name}: {_describe(exc)}")
            continue
        actions[cls] = Action(**model_action.model_dump())
    if problems:
        raise FailureRulesError("\n".join(f"{source}: {line}" for line in problems))
    try:
        return FailureTable(tuple(rules), actions)
    except FailureRulesError as exc:
        raise FailureRulesError(f"{source}: {exc}") from None


def default_table_path() -> Path:
    """The shipped resources/failure_rules.toml, or the one in the SWITCHBOARD_RESOURCES folder."""
    return resource_path(RULES_FILE)


def load_table(path: Path | None = None) -> FailureTable:
    """Read and validate a failure rule table (a TOML file, or a folder holding one)."""
    source = default_table_path() if path is None else Path(path)
    if source.is_dir():
        source = source / RULES_FILE
    data = read_toml(source, RULES_FILE, "failure rules", FailureRulesError)
    return parse_table(data, source=str(source))


@functools.cache
def default_table() -> FailureTable:
    """The shipped failure rules, loaded on first use and then shared."""
    return load_table()
