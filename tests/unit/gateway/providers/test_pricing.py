"""pricing.toml: the shipped table validates against the catalog, broken tables are reported
precisely, and PriceBook answers in the documented order."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from gateway.providers.catalog import CatalogError, default_catalog, load_catalog
from gateway.providers.pricing import (
    FREE,
    ModelPrice,
    PriceBook,
    PriceTable,
    PricingError,
    Quote,
    parse_prices,
)

REPO = Path(__file__).resolve().parents[4]
SHIPPED = REPO / "resources" / "providers.toml"
SHIPPED_PRICES = REPO / "resources" / "pricing.toml"


def shipped_prices() -> dict[str, Any]:
    return tomllib.loads(SHIPPED_PRICES.read_text(encoding="utf-8"))


def broken(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> str:
    data = shipped_prices()
    change(data)
    shutil.copyfile(SHIPPED, tmp_path / "providers.toml")
    (tmp_path / "pricing.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    return str(caught.value)


def test_the_shipped_table_prices_catalog_models_and_names_its_sources() -> None:
    catalog = default_catalog()
    table = catalog.prices
    assert table.prices_as_of == "2026-11-17" == catalog.prices_as_of
    assert set(table.providers) == {
        "openai", "anthropic", "gemini", "deepseek", "groq", "mistral", "xai", "together",
        "fireworks", "cerebras",
    }  # fmt: skip
    for provider_id, entry in table.providers.items():
        info = catalog.get(provider_id)
        assert info is not None and info.tier not in ("local", "free")
        assert entry.source
        for model, price in entry.models.items():
            assert info.price_for(model) == price
    assert table.as_of("gemini") == "2026-10-07"  # the page's own date
    assert table.as_of("groq") == "2026-11-17"  # undated: the file's date, an upper bound
    assert table.price("anthropic", "claude-opus-5-5") == ModelPrice(
        input=4.0, output=20.0, cache_read=0.2, cache_write=5.0
    )
    assert table.price("anthropic", "not-listed") is None
    assert table.price("openrouter", "~anthropic/claude-opus-latest") is None


def test_free_and_local_tiers_cost_nothing() -> None:
    catalog = default_catalog()
    for provider_id in ("ollama", "nvidia"):
        info = catalog.get(provider_id)
        assert info is not None and info.price_for("anything") == FREE


def test_negative_price_is_reported(tmp_path: Path) -> None:
    message = broken(
        tmp_path,
        lambda d: d["providers"]["anthropic"]["models"]["claude-opus-5"].update(input=-1.0),
    )
    assert "field 'providers.anthropic.models.claude-opus-5.input'" in message
    assert "greater than or equal to 0" in message
    assert str(tmp_path / "pricing.toml") in message


def test_unknown_keys_models_and_providers_are_reported(tmp_path: Path) -> None:
    extra = broken(tmp_path, lambda d: d["providers"]["groq"].update(currency="EUR"))
    assert "providers.groq.currency" in extra and "unknown key" in extra
    model = broken(
        tmp_path, lambda d: d["providers"]["groq"]["models"].update(nope={"input": 1, "output": 1})
    )
    assert "providers.groq.models.'nope': not a model of 'groq' in providers.toml" in model
    provider = broken(
        tmp_path, lambda d: d["providers"].update(acme={"source": "x", "models": {"m": {}}})
    )
    assert "field 'providers.acme.models.m.input': Field required" in provider
    stranger = broken(
        tmp_path,
        lambda d: d["providers"].update(
            acme={"source": "x", "models": {"m": {"input": 1.0, "output": 2.0}}}
        ),
    )
    assert "providers.acme: not a provider of the catalog" in stranger
    local = broken(
        tmp_path,
        lambda d: d["providers"].update(
            ollama={"source": "x", "models": {"m": {"input": 1.0, "output": 2.0}}}
        ),
    )
    assert "providers.ollama: tier 'local' costs nothing" in local


def test_dates_are_checked(tmp_path: Path) -> None:
    assert "prices_as_of: expected an ISO date" in broken(
        tmp_path, lambda d: d.update(prices_as_of="last week")
    )
    later = broken(tmp_path, lambda d: d["providers"]["gemini"].update(as_of="2027-01-01"))
    assert "providers.gemini.as_of (2027-01-01) is after prices_as_of (2026-11-17)" in later
    bad = broken(tmp_path, lambda d: d["providers"]["gemini"].update(as_of="Oct 2026"))
    assert "providers.gemini.as_of: expected an ISO date" in bad


def test_a_catalog_without_its_price_table_is_refused(tmp_path: Path) -> None:
    shutil.copyfile(SHIPPED, tmp_path / "providers.toml")
    with pytest.raises(CatalogError, match="price table not found"):
        load_catalog(tmp_path / "providers.toml")


def test_parse_prices_takes_toml_dates() -> None:
    import datetime as dt

    table = parse_prices({"prices_as_of": dt.date(2026, 5, 1), "providers": {}})
    assert table.prices_as_of == "2026-05-01" and table.providers == {}
    with pytest.raises(PricingError, match="prices_as_of"):
        parse_prices({"providers": {}})


CHEAP = ModelPrice(input=1.0, output=2.0)
MINE = ModelPrice(input=0.5, output=0.5)
ANY = ModelPrice(input=9.0, output=9.0)


def test_price_book_order() -> None:
    table = default_catalog().prices
    tiers = {"openai": "api-key", "ollama": "local", "nvidia": "free", "custom-openai": "api-key"}
    book = PriceBook(
        table,
        tiers,
        [("openai/gpt-6-luna", MINE), ("box/*", ANY), ("ollama/qwen3", CHEAP)],
    )
    assert book.quote("openai", "openai", "gpt-6-luna") == Quote(MINE, "override")
    assert book.quote("openai", "openai", "gpt-6.2-sol") == Quote(
        table.price("openai", "gpt-6.2-sol"), "catalog"
    )
    assert book.quote("box", "custom-openai", "anything") == Quote(ANY, "override")
    assert book.quote("ollama", "ollama", "qwen3") == Quote(CHEAP, "override")  # yours first
    assert book.quote("ollama", "ollama", "llama3") == Quote(FREE, "local")
    assert book.quote("nvidia", "nvidia", "z-ai/glm5") == Quote(FREE, "free")
    assert book.quote("openai", "openai", "gpt-9") == Quote(None, "unknown")
    assert book.quote("lab", "custom-anthropic", "m") == Quote(None, "unknown")
    assert PriceBook.empty().quote("openai", "openai", "gpt-6.2-sol") == Quote(None, "unknown")
    assert PriceTable.empty().as_of("openai") is None
