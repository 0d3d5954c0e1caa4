"""The configuration file format (TOML or JSON) shared by import and export.

This is a public contract (docs/config.md): fields may be added, never renamed or
repurposed. Validation happens here, at the boundary, with messages that name the field.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.routing.strategies import ComboStrategy
from gateway.security.api_keys import validate_key_format

Dialect = Literal["openai", "anthropic", "gemini", "responses"]
Strategy = ComboStrategy

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
NAME_PATTERN = re.compile(_NAME)
NAME_RULE = "names are 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
_ALIAS = r"^[a-z0-9][a-z0-9-]{0,31}$"
Name = Annotated[str, Field(pattern=_NAME)]


class ConfigFileError(ValueError):
    """The file cannot be read or does not validate. The message lists every problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


_MODEL_PATTERN = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S+$")]
_ALIAS_NAME = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
ALIAS_NAME_PATTERN = re.compile(_ALIAS_NAME)


class ApiKeyEntry(_Strict):
    name: Name
    key: str | None = None
    # Models this key may use, as shell-style patterns ("openai/*", "fast"); [] = every model.
    allowed_models: list[_MODEL_PATTERN] = []
    rpm: int | None = Field(default=None, ge=1, le=1_000_000)
    requests_per_day: int | None = Field(default=None, ge=1, le=100_000_000)

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: str | None) -> str | None:
        if value is not None and (problem := validate_key_format(value)):
            raise ValueError(problem)
        return value


class ConnectionEntry(_Strict):
    name: Name
    provider: str = Field(min_length=1)
    api_key: str | None = None
    base_url: str | None = None
    priority: int = Field(default=100, ge=0, le=1_000_000)
    enabled: bool = True
    dialect: Dialect | None = None
    alias: Annotated[str, Field(pattern=_ALIAS)] | None = None
    models: list[Annotated[str, Field(min_length=1, max_length=200)]] = []
    rpm: int | None = Field(default=None, ge=1, le=1_000_000)
    min_gap_ms: int | None = Field(default=None, ge=1, le=3_600_000)
    max_concurrent: int | None = Field(default=None, ge=1, le=10_000)

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


class ComboEntry(_Strict):
    name: Name
    strategy: Strategy = "priority"
    targets: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    enabled: bool = True
    weights: list[Annotated[float, Field(gt=0, le=1_000_000)]] | None = None
    system_prompt: Annotated[str, Field(min_length=1, max_length=100_000)] | None = None
    cache: bool | None = None  # None: follow the cache_enabled setting

    @model_validator(mode="after")
    def _weights_match(self) -> ComboEntry:
        if self.weights is not None and len(self.weights) != len(self.targets):
            raise ValueError(
                f"weights: {len(self.weights)} given for {len(self.targets)} "
                "targets (one weight per target)"
            )
        return self

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, value: list[str]) -> list[str]:
        for target in value:
            if "/" not in target and not re.match(_NAME, target):
                raise ValueError(f"{target!r} is neither alias/model nor a combo name")
        return value


class ProviderEntry(_Strict):
    enabled: bool = True  # false: none of the provider's connections is used
    hidden: bool = False  # true: its models are left out of GET /v1/models and /v1beta/models


class PriceEntry(_Strict):
    """Your price for a model, USD per 1M tokens (docs/usage.md)."""

    input: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)
    output: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)
    cache_read: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False)
    cache_write: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False)


class QuotaEntry(_Strict):
    """A quota window on one connection (docs/usage.md "Quota windows")."""

    connection: Name
    window: Literal["5h", "daily", "weekly", "monthly"]
    limit: float = Field(gt=0, le=1e15, allow_inf_nan=False)
    unit: Literal["requests", "tokens", "usd"]
    reset_hour: int = Field(default=0, ge=0, le=23)  # daily, weekly, monthly
    reset_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"  # weekly
    reset_day: int = Field(default=1, ge=1, le=31)  # monthly; clamped to the month's length
    timezone: str = "UTC"  # an IANA name, or "local"

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        from gateway.usage.windows import zone

        zone(value)
        return value


class BudgetEntry(_Strict):
    """A USD budget per calendar day, week or month (docs/usage.md "Budgets")."""

    scope: Literal["connection", "provider", "tier", "key"]
    name: str = Field(min_length=1, max_length=200)
    period: Literal["day", "week", "month"]
    limit_usd: float = Field(gt=0, le=1e12, allow_inf_nan=False)


# "alias/model" or "alias/*"; the prefix is checked against the catalog in validation.py.
_PRICE_KEY = r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}/\S{1,200}$"


class ConfigFile(_Strict):
    settings: dict[str, Any] = {}
    api_keys: list[ApiKeyEntry] = []
    connections: list[ConnectionEntry] = []
    combos: list[ComboEntry] = []
    # User model aliases: a name clients may send -> alias/model or a combo name.
    model_aliases: dict[Annotated[str, Field(pattern=_ALIAS_NAME)], _MODEL_PATTERN] = {}
    providers: dict[str, ProviderEntry] = {}  # by catalog provider id
    prices: dict[Annotated[str, Field(pattern=_PRICE_KEY)], PriceEntry] = {}  # your prices
    quotas: list[QuotaEntry] = []  # quota windows per connection
    budgets: list[BudgetEntry] = []  # USD per day, week or month


def format_validation_error(error: ValidationError, data: Any) -> str:
    """One line per problem, naming the field the way a user wrote it (connections[1].alias)."""
    lines = []
    for item in error.errors():
        where = _describe_location(item["loc"], data)
        lines.append(f"{where}: {item['msg']}")
    return "\n".join(lines)


def _describe_location(loc: tuple[int | str, ...], data: Any) -> str:
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and step < len(node):
                node = node[step]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label = f"[{step}] ({node['name']!r})"
            else:
                node = None
            parts.append(label)
        else:
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + step)
    return "".join(parts) or "file"


def parse_config_text(text: str, *, fmt: Literal["toml", "json"]) -> ConfigFile:
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigFileError(f"not valid {fmt.upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigFileError("the file must contain a table/object at the top level")
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigFileError(format_validation_error(exc, data)) from None


def read_config_file(path: Path) -> ConfigFile:
    """Parse a TOML or JSON file (chosen by extension; TOML unless it ends in .json)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path} is not UTF-8 text") from None
    return parse_config_text(text, fmt="json" if path.suffix.lower() == ".json" else "toml")
