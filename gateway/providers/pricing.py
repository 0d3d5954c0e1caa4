"""Model prices: the schema of ``resources/pricing.toml`` and the lookup a request's cost uses.

The shipped table gives public prices per catalog provider and model, with their source and
date; users override any ``alias/model`` (or every model of an alias, ``alias/*``) in their
configuration. :class:`PriceBook` answers "what does this model cost, and says who?" in a few
dict lookups, so the request path can price every request when it ends.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.resources import read_toml, resource_path

PRICING_FILE: Final = "pricing.toml"
_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")

# Who a request's price came from (stored with each log row as price_source).
PriceSource = Literal["override", "catalog", "free", "local", "unknown"]


class PricingError(Exception):
    """pricing.toml could not be read or is invalid; the message names the entry and field."""


class ModelPrice(BaseModel):
    """Price of a model in USD per 1M tokens. Without cache prices, cached tokens bill as input."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, strict=True, allow_inf_nan=False)
    output: float = Field(ge=0, strict=True, allow_inf_nan=False)
    cache_read: float | None = Field(default=None, ge=0, strict=True, allow_inf_nan=False)
    cache_write: float | None = Field(default=None, ge=0, strict=True, allow_inf_nan=False)


FREE: Final = ModelPrice(input=0.0, output=0.0, cache_read=0.0, cache_write=0.0)


class ProviderPrices(BaseModel):
    """One provider's public prices and where they were read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    as_of: str | None = None  # ISO date of the source pages, when known
    models: dict[str, ModelPrice] = Field(min_length=1)


class _PricingFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prices_as_of: str
    providers: dict[str, ProviderPrices] = {}


def check_date(value: object, field: str) -> str:
    """An ISO date (TOML date or "YYYY-MM-DD" string) as a string, or PricingError."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise PricingError(f'{field}: expected an ISO date like "2026-11-17", got {value!r}')


@dataclass(frozen=True, slots=True)
class PriceTable:
    """The validated shipped prices: provider id -> its prices."""

    prices_as_of: str | None
    providers: Mapping[str, ProviderPrices]

    @classmethod
    def empty(cls) -> PriceTable:
        return cls(None, MappingProxyType({}))

    def price(self, provider_id: str, model: str) -> ModelPrice | None:
        entry = self.providers.get(provider_id)
        return entry.models.get(model) if entry is not None else None

    def as_of(self, provider_id: str) -> str | None:
        """The date of a provider's source pages, else the file's date (an upper bound)."""
        entry = self.providers.get(provider_id)
        if entry is not None and entry.as_of:
            return entry.as_of
        return self.prices_as_of


def parse_prices(data: Mapping[str, Any], source: str = "<pricing>") -> PriceTable:
    """Validate parsed pricing.toml data (checked against the catalog by the catalog loader)."""
    raw = dict(data)
    try:
        raw["prices_as_of"] = check_date(raw.get("prices_as_of"), "prices_as_of")
        for provider_id, entry in (raw.get("providers") or {}).items():
            if isinstance(entry, dict) and "as_of" in entry:
                field = f"providers.{provider_id}.as_of"
                entry = {**entry, "as_of": check_date(entry["as_of"], field)}
                raw["providers"] = {**raw["providers"], provider_id: entry}
        parsed = _PricingFile.model_validate(raw)
    except PricingError as exc:
        raise PricingError(f"{source}: {exc}") from None
    except ValidationError as exc:
        raise PricingError("\n".join(f"{source}: {line}" for line in _describe(exc))) from None
    for provider_id, entry in parsed.providers.items():
        if entry.as_of and entry.as_of > parsed.prices_as_of:
            raise PricingError(
                f"{source}: providers.{provider_id}.as_of ({entry.as_of}) is after "
                f"prices_as_of ({parsed.prices_as_of})"
            )
    return PriceTable(parsed.prices_as_of, MappingProxyType(dict(parsed.providers)))


def _describe(exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(item) for item in error["loc"])
        if error["type"] == "extra_forbidden":
            message = "unknown key (not part of the pricing schema)"
        else:
            message = error["msg"]
            given = error.get("input")
            if isinstance(given, str | int | float | bool):
                message += f" (got {given!r})"
        lines.append(f"field '{path}': {message}" if path else message)
    return lines


def pricing_path_for(catalog_source: Path) -> Path:
    """pricing.toml next to a providers.toml (or in the folder holding it)."""
    folder = catalog_source if catalog_source.is_dir() else catalog_source.parent
    return folder / PRICING_FILE


def load_prices(path: Path | None = None) -> PriceTable:
    source = resource_path(PRICING_FILE) if path is None else Path(path)
    data = read_toml(source, PRICING_FILE, "price table", PricingError)
    return parse_prices(data, source=str(source))


# -- the lookup a request's cost uses -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quote:
    price: ModelPrice | None  # None: unknown
    source: PriceSource


UNKNOWN: Final = Quote(None, "unknown")


class PriceBook:
    """Prices for ``alias/model`` names: the user's overrides, then free and local tiers, then
    the shipped table. Built once per configuration snapshot; lookups are dict reads."""

    __slots__ = ("_overrides", "_table", "_tiers")

    def __init__(
        self,
        table: PriceTable,
        tiers: Mapping[str, str],
        overrides: Iterable[tuple[str, ModelPrice]] = (),
    ) -> None:
        self._table = table
        self._tiers = dict(tiers)  # provider id -> tier
        self._overrides = dict(overrides)  # "alias/model" or "alias/*" -> price

    @classmethod
    def empty(cls) -> PriceBook:
        return cls(PriceTable.empty(), {})

    def quote(self, alias: str, provider_id: str, model: str) -> Quote:
        overrides = self._overrides
        if overrides:
            price = overrides.get(f"{alias}/{model}") or overrides.get(f"{alias}/*")
            if price is not None:
                return Quote(price, "override")
        tier = self._tiers.get(provider_id)
        if tier == "local":
            return Quote(FREE, "local")
        if tier == "free":
            return Quote(FREE, "free")
        price = self._table.price(provider_id, model)
        return Quote(price, "catalog") if price is not None else UNKNOWN
