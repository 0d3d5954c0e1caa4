"""The provider catalog: declarative provider entries, validated against a schema when loaded.

The data lives in ``resources/providers.toml`` (see the comments there), the models' prices in
``resources/pricing.toml`` (gateway/providers/pricing.py). This module defines the schema
(pydantic models), the cross-entry rules (unique ids and aliases, one custom template per
dialect, prices only for listed models) and the loader. Importing it reads nothing;
:func:`default_catalog` loads on first use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.providers.pricing import (
    FREE,
    PRICING_FILE,
    ModelPrice,
    PriceTable,
    PricingError,
    load_prices,
    pricing_path_for,
)
from gateway.resources import read_toml, resource_path

Dialect = Literal["openai", "anthropic", "gemini", "responses"]
AuthKind = Literal["bearer", "x-api-key", "x-goog-api-key", "none"]
Tier = Literal["subscription", "api-key", "cheap", "free", "local"]

DIALECTS: Final[tuple[Dialect, ...]] = get_args(Dialect)
CATALOG_FILE: Final = "providers.toml"

_NAME_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
# Credentials come from the keyring, never from the catalog.
_SECRET_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "cookie"}
)


class CatalogError(Exception):
    """The provider catalog could not be read or is invalid; the message names entry and field."""


class ModelInfo(BaseModel):
    """One model a provider serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    context_window: int = Field(gt=0, strict=True)
    max_output: int | None = Field(default=None, gt=0, strict=True)
    price: ModelPrice | None = None  # from pricing.toml, filled in when the catalog is loaded

    @field_validator("id")
    @classmethod
    def _no_whitespace(cls, value: str) -> str:
        if value != value.strip() or any(ch.isspace() for ch in value):
            raise ValueError("a model id must not contain whitespace")
        return value

    @model_validator(mode="after")
    def _output_fits(self) -> ModelInfo:
        if self.max_output is not None and self.max_output > self.context_window:
            raise ValueError(
                f"max_output ({self.max_output}) exceeds context_window ({self.context_window})"
            )
        return self


class QuotaWindowInfo(BaseModel):
    """A plan limit the provider publishes (docs/usage.md "Quota windows"); ``source`` is
    the public page that states it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: Literal["5h", "daily", "weekly", "monthly"]
    limit: float = Field(gt=0)
    unit: Literal["requests", "tokens", "usd"]
    reset_hour: int = Field(default=0, ge=0, le=23)
    reset_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    reset_day: int = Field(default=1, ge=1, le=31)
    timezone: str = "UTC"
    source: str = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        from gateway.usage.windows import zone

        zone(value)  # WindowError is a ValueError: pydantic reports it on the field
        return value


class ProviderInfo(BaseModel):
    """One upstream provider (or, with ``custom``, the template for user-defined ones)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(min_length=1)
    alias: str
    legacy_aliases: tuple[str, ...] = ()
    dialect: Dialect
    base_url: str
    auth: AuthKind
    headers: dict[str, str] = Field(default_factory=dict)
    tier: Tier
    custom: bool = Field(default=False, strict=True)
    key_required: bool = Field(default=True, strict=True)
    docs_url: str | None = None
    models: tuple[ModelInfo, ...] = ()
    quota_windows: tuple[QuotaWindowInfo, ...] = ()  # public plan limits, where published

    @field_validator("id", "alias")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME_RE.fullmatch(value):
            raise ValueError(f"{value!r} must be lowercase letters, digits and inner hyphens")
        return value

    @field_validator("legacy_aliases")
    @classmethod
    def _check_legacy(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for alias in value:
            cls._check_name(alias)
        if len(set(value)) != len(value):
            raise ValueError("an alias is listed twice")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if value == "":
            return value  # allowed for custom templates only; checked in _check_entry
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} must be an absolute http:// or https:// URL")
        if value.endswith("/"):
            raise ValueError(f"{value!r} must not end with '/' (the executor appends the path)")
        if parts.query or parts.fragment or any(ch.isspace() for ch in value):
            raise ValueError(f"{value!r} must not carry a query, fragment or whitespace")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for header in value:
            if not header.strip():
                raise ValueError("a header name is empty")
            if header.lower() in _SECRET_HEADERS:
                raise ValueError(f"{header!r} carries credentials; keys belong in the keyring")
        return value

    @model_validator(mode="after")
    def _check_entry(self) -> ProviderInfo:
        if self.base_url == "" and not self.custom:
            raise ValueError("field 'base_url': required unless the entry is a custom template")
        if self.auth == "none" and self.key_required:
            raise ValueError("field 'key_required': must be false when auth is 'none'")
        if own := {self.id, self.alias} & set(self.legacy_aliases):
            raise ValueError(f"field 'legacy_aliases': {sorted(own)} repeat the own id or alias")
        seen: set[str] = set()
        for model in self.models:
            if model.id in seen:
                raise ValueError(f"field 'models': model id {model.id!r} is listed twice")
            seen.add(model.id)
        return self

    def find_model(self, model_id: str) -> ModelInfo | None:
        """The catalog entry for ``model_id``, if listed."""
        return next((m for m in self.models if m.id == model_id), None)

    def price_for(self, model_id: str) -> ModelPrice | None:
        """The public price of ``model_id``: zero for local servers and free tiers, None when
        no public price is known."""
        if self.tier in ("local", "free"):
            return FREE
        model = self.find_model(model_id)
        return model.price if model is not None else None


def _label(index: int, provider_id: object) -> str:
    if isinstance(provider_id, str) and provider_id:
        return f"providers[{index}] (id {provider_id!r})"
    return f"providers[{index}]"


class Catalog:
    """The validated set of providers, indexed by id and by every model prefix."""

    __slots__ = ("_by_id", "_by_name", "_prices", "_providers", "_templates")

    def __init__(self, providers: Iterable[ProviderInfo], prices: PriceTable | None = None) -> None:
        self._providers = tuple(providers)
        self._prices = prices or PriceTable.empty()
        self._by_id: dict[str, ProviderInfo] = {}
        self._by_name: dict[str, ProviderInfo] = {}
        self._templates: dict[str, ProviderInfo] = {}
        problems: list[str] = []
        first_index: dict[str, int] = {}  # provider id -> index of its entry
        owners: dict[str, tuple[int, str]] = {}  # id/alias/legacy alias -> (index, field)
        template_index: dict[str, int] = {}  # dialect -> index of its custom template
        for index, info in enumerate(self._providers):
            label = _label(index, info.id)
            if info.id in first_index:
                problems.append(
                    f"{label}: field 'id': {info.id!r} is already the id of "
                    f"providers[{first_index[info.id]}]"
                )
                continue
            first_index[info.id] = index
            self._by_id[info.id] = info
            names = [(info.id, "id"), (info.alias, "alias")]
            names += [(alias, "legacy_aliases") for alias in info.legacy_aliases]
            for name, field in names:
                owner = owners.setdefault(name, (index, field))
                if owner[0] != index:
                    other = _label(owner[0], self._providers[owner[0]].id)
                    problems.append(
                        f"{label}: field '{field}': {name!r} is already used by "
                        f"{other} as its {owner[1]}"
                    )
                else:
                    self._by_name[name] = info
            if not info.custom:
                continue
            if info.dialect in template_index:
                first = template_index[info.dialect]
                problems.append(
                    f"{label}: field 'custom': a second custom template for dialect "
                    f"{info.dialect!r} after {_label(first, self._providers[first].id)}"
                    f"; keep one"
                )
            else:
                template_index[info.dialect] = index
                self._templates[info.dialect] = info
        for dialect in DIALECTS:
            if dialect not in self._templates:
                problems.append(
                    f"no custom template for dialect {dialect!r}: add an entry with "
                    f"custom = true and dialect = {dialect!r}"
                )
        if problems:
            raise CatalogError("\n".join(problems))

    @property
    def providers(self) -> tuple[ProviderInfo, ...]:
        return self._providers

    @property
    def prices_as_of(self) -> str | None:
        """ISO date the prices were read from the providers' public pages (pricing.toml)."""
        return self._prices.prices_as_of

    @property
    def prices(self) -> PriceTable:
        """The shipped price table (pricing.toml), checked against this catalog."""
        return self._prices

    def get(self, provider_id: str) -> ProviderInfo | None:
        """The provider with this id."""
        return self._by_id.get(provider_id)

    def by_alias(self, alias: str) -> ProviderInfo | None:
        """The provider a model prefix names: its alias, a legacy alias or its id."""
        return self._by_name.get(alias.lower())

    def custom_template(self, dialect: Dialect) -> ProviderInfo:
        """The template for user-defined providers that speak ``dialect``."""
        try:
            return self._templates[dialect]
        except KeyError:
            raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}") from None


def _describe(exc: ValidationError) -> str:
    """Pydantic errors as 'field <path>: <what is wrong>' phrases."""
    parts: list[str] = []
    for error in exc.errors(include_url=False):
        path = ""
        for item in error["loc"]:
            path += f"[{item}]" if isinstance(item, int) else (f".{item}" if path else str(item))
        if error["type"] == "extra_forbidden":
            message = "unknown key (not part of the catalog schema)"
        elif error["type"] == "value_error":
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            message = error["msg"]
            given = error.get("input")
            if isinstance(given, str | int | float | bool):
                message += f" (got {given!r})"
        parts.append(f"field '{path}': {message}" if path else message)
    return "; ".join(parts)


def parse_catalog(
    data: Mapping[str, Any],
    source: str = "<catalog>",
    prices: PriceTable | None = None,
    prices_source: str = PRICING_FILE,
) -> Catalog:
    """Validate parsed catalog data (the TOML document as a dict) into a :class:`Catalog`,
    with ``prices`` (pricing.toml, already parsed) checked against it and attached."""
    if unknown := sorted(set(data) - {"providers"}):
        hint = " (prices and their date live in pricing.toml)" if "prices_as_of" in unknown else ""
        raise CatalogError(
            f"{source}: unknown top-level key(s) {unknown}; expected [[providers]] tables{hint}"
        )
    raw_providers = data.get("providers")
    if not isinstance(raw_providers, list) or not raw_providers:
        raise CatalogError(f"{source}: no [[providers]] tables")
    providers: list[ProviderInfo] = []
    problems: list[str] = []
    for index, raw in enumerate(raw_providers):
        if not isinstance(raw, dict):
            problems.append(f"{_label(index, None)}: expected a [[providers]] table")
            continue
        problems += _inline_prices(index, raw)
        try:
            providers.append(ProviderInfo.model_validate(raw))
        except ValidationError as exc:
            problems.append(f"{_label(index, raw.get('id'))}: {_describe(exc)}")
    if problems:
        raise CatalogError("\n".join(f"{source}: {line}" for line in problems))
    try:
        catalog = Catalog(providers)
    except CatalogError as exc:
        lines = str(exc).splitlines()
        raise CatalogError("\n".join(f"{source}: {line}" for line in lines)) from None
    if prices is None:
        return catalog
    return Catalog(_with_prices(catalog, prices, prices_source), prices)


def _inline_prices(index: int, raw: dict[str, Any]) -> list[str]:
    models = raw.get("models")
    if not isinstance(models, list):
        return []
    return [
        f"{_label(index, raw.get('id'))}: field 'models[{i}].price': prices live in "
        "pricing.toml, not in the provider catalog"
        for i, model in enumerate(models)
        if isinstance(model, dict) and "price" in model
    ]


def _with_prices(catalog: Catalog, prices: PriceTable, source: str) -> list[ProviderInfo]:
    """The catalog's providers with their models' prices filled in; a price for a provider or
    model the catalog does not list, or for a provider that costs nothing, is an error."""
    problems: list[str] = []
    for provider_id, entry in prices.providers.items():
        info = catalog.get(provider_id)
        if info is None or info.custom:
            problems.append(f"providers.{provider_id}: not a provider of the catalog")
            continue
        if info.tier in ("local", "free"):
            problems.append(
                f"providers.{provider_id}: tier {info.tier!r} costs nothing; remove its prices"
            )
        problems += [
            f"providers.{provider_id}.models.{model!r}: not a model of {provider_id!r} "
            "in providers.toml"
            for model in entry.models
            if info.find_model(model) is None
        ]
    if problems:
        raise CatalogError("\n".join(f"{source}: {line}" for line in problems))
    result = []
    for info in catalog.providers:
        own = prices.providers.get(info.id)
        if own is not None:
            models = own.models
            priced = tuple(m.model_copy(update={"price": models.get(m.id)}) for m in info.models)
            info = info.model_copy(update={"models": priced})
        result.append(info)
    return result


def default_catalog_path() -> Path:
    """The shipped resources/providers.toml, or the one in the SWITCHBOARD_RESOURCES folder."""
    return resource_path(CATALOG_FILE)


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate the provider catalog (a TOML file, or a folder holding providers.toml)
    and the pricing.toml beside it."""
    source = default_catalog_path() if path is None else Path(path)
    if source.is_dir():
        source = source / CATALOG_FILE
    data = read_toml(source, CATALOG_FILE, "provider catalog", CatalogError)
    prices_path = pricing_path_for(source)
    try:
        prices = load_prices(prices_path)
    except PricingError as exc:
        raise CatalogError(str(exc)) from None
    return parse_catalog(data, str(source), prices, str(prices_path))


@functools.cache
def default_catalog() -> Catalog:
    """The shipped catalog, loaded on first use and then shared."""
    return load_catalog()
