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


class ApiKeyEntry(_Strict):
    name: Name
    key: str | None = None

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


class ConfigFile(_Strict):
    settings: dict[str, Any] = {}
    api_keys: list[ApiKeyEntry] = []
    connections: list[ConnectionEntry] = []
    combos: list[ComboEntry] = []


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
