"""The provider catalog: the shipped data validates, and broken data is reported precisely."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from gateway.providers import catalog as catalog_module
from gateway.providers.catalog import (
    DIALECTS,
    FREE,
    Catalog,
    CatalogError,
    ModelInfo,
    ModelPrice,
    ProviderInfo,
    default_catalog,
    load_catalog,
    parse_catalog,
)

REPO = Path(__file__).resolve().parents[4]
SHIPPED = REPO / "resources" / "providers.toml"
SHIPPED_PRICES = REPO / "resources" / "pricing.toml"
REQUIRED_IDS = (
    "openai", "anthropic", "gemini", "openrouter", "deepseek", "groq", "mistral", "xai",
    "nvidia", "together", "fireworks", "cerebras", "ollama", "lm-studio", "llama-cpp",
    "custom-openai", "custom-anthropic", "custom-gemini", "custom-responses",
)  # fmt: skip


@pytest.fixture
def shipped() -> Catalog:
    return load_catalog(SHIPPED)


def shipped_data() -> dict[str, Any]:
    return tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def entry(data: dict[str, Any], provider_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in data["providers"] if p["id"] == provider_id)
    return found


def with_shipped_prices(folder: Path) -> None:
    shutil.copyfile(SHIPPED_PRICES, folder / "pricing.toml")


def broken(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> str:
    """Write a copy of the shipped catalog with ``change`` applied; return the load error."""
    data = shipped_data()
    change(data)
    target = tmp_path / "providers.toml"
    target.write_text(tomli_w.dumps(data), encoding="utf-8")
    with_shipped_prices(tmp_path)
    with pytest.raises(CatalogError) as caught:
        load_catalog(target)
    return str(caught.value)


# --- the shipped catalog -------------------------------------------------------------------


def test_shipped_catalog_loads_and_validates(shipped: Catalog) -> None:
    assert shipped.prices_as_of == "2026-11-17"
    assert len({p.id for p in shipped.providers}) == len(shipped.providers)
    for provider in shipped.providers:
        if provider.custom:
            assert provider.base_url == "" and provider.models == ()
        else:
            assert provider.base_url.startswith(("http://", "https://"))
            assert not provider.base_url.endswith("/")


def test_every_required_provider_is_present(shipped: Catalog) -> None:
    missing = [pid for pid in REQUIRED_IDS if shipped.get(pid) is None]
    assert missing == []


def test_each_dialect_has_exactly_one_custom_template(shipped: Catalog) -> None:
    for dialect in DIALECTS:
        templates = [p for p in shipped.providers if p.custom and p.dialect == dialect]
        assert len(templates) == 1
        assert shipped.custom_template(dialect) is templates[0]
        assert templates[0].id == templates[0].alias == f"custom-{dialect}"
        assert templates[0].tier == "api-key"
    with pytest.raises(ValueError, match="unknown dialect"):
        shipped.custom_template("smtp")  # type: ignore[arg-type]


def test_by_alias_accepts_alias_legacy_alias_and_id(shipped: Catalog) -> None:
    deepseek = shipped.get("deepseek")
    assert deepseek is not None and deepseek.alias == "ds"
    assert shipped.by_alias("ds") is deepseek
    assert shipped.by_alias("deepseek") is deepseek
    assert shipped.by_alias("DS") is deepseek
    lm_studio = shipped.get("lm-studio")
    assert lm_studio is not None and "lmstudio" in lm_studio.legacy_aliases
    assert shipped.by_alias("lmstudio") is lm_studio
    assert shipped.by_alias("nope") is None
    assert shipped.get("ds") is None  # get() takes ids only


def test_provider_specifics(shipped: Catalog) -> None:
    anthropic, gemini, openai = (shipped.get(i) for i in ("anthropic", "gemini", "openai"))
    assert anthropic is not None and gemini is not None and openai is not None
    assert anthropic.auth == "x-api-key"
    assert anthropic.headers == {"anthropic-version": "2023-06-01"}
    assert anthropic.base_url == "https://api.anthropic.com"
    assert gemini.auth == "x-goog-api-key"
    assert gemini.base_url == "https://generativelanguage.googleapis.com"
    assert openai.base_url == "https://api.openai.com/v1"
    for pid, port in (("ollama", 11434), ("lm-studio", 1234), ("llama-cpp", 8080)):
        local = shipped.get(pid)
        assert local is not None
        assert local.base_url == f"http://127.0.0.1:{port}/v1"
        assert (local.tier, local.auth, local.key_required) == ("local", "none", False)
        assert local.price_for("whatever-the-user-loaded") == FREE


def test_api_providers_list_a_handful_of_models(shipped: Catalog) -> None:
    for provider in shipped.providers:
        if provider.custom or provider.tier == "local":
            continue
        assert 2 <= len(provider.models) <= 8, provider.id
        for model in provider.models:
            assert model.context_window > 0
    opus = shipped.get("anthropic")
    assert opus is not None
    price = opus.price_for("claude-opus-5-5")
    assert price == ModelPrice(input=4.0, output=20.0, cache_read=0.2, cache_write=5.0)
    assert opus.price_for("not-listed") is None


# --- loading and caching ---------------------------------------------------------------------


def test_importing_the_module_reads_nothing(tmp_path: Path) -> None:
    # A fresh interpreter, pointed at an empty resources folder: if importing loaded the
    # catalog it would fail; the cache must also still be empty.
    code = (
        "import gateway.providers.catalog as c\n"
        "assert c.default_catalog.cache_info().currsize == 0\n"
        "try:\n"
        "    c.default_catalog()\n"
        "except c.CatalogError as exc:\n"
        "    print('deferred:', exc)\n"
    )
    env = {**os.environ, "SWITCHBOARD_RESOURCES": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "deferred:" in done.stdout and "not found" in done.stdout


def test_default_catalog_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_RESOURCES", raising=False)
    calls: list[Path | None] = []
    real = catalog_module.load_catalog

    def counting(path: Path | None = None) -> Catalog:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(catalog_module, "load_catalog", counting)
    default_catalog.cache_clear()
    try:
        first = default_catalog()
        assert default_catalog() is first
        assert calls == [None]
        assert first.get("openai") is not None
    finally:
        default_catalog.cache_clear()


def test_resources_folder_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(SHIPPED, tmp_path / "providers.toml")
    prices = tomllib.loads(SHIPPED_PRICES.read_text(encoding="utf-8"))
    prices["prices_as_of"] = "2026-12-02"
    (tmp_path / "pricing.toml").write_text(tomli_w.dumps(prices), encoding="utf-8")
    monkeypatch.setenv("SWITCHBOARD_RESOURCES", str(tmp_path))
    assert load_catalog().prices_as_of == "2026-12-02"
    assert load_catalog(tmp_path).prices_as_of == "2026-12-02"  # a folder works too


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[providers]\nid = 'x'\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_catalog(bad)


# --- adding a provider is a data change --------------------------------------------------------


def test_new_openai_compatible_provider_is_data_only(tmp_path: Path) -> None:
    extra = """
[[providers]]
id = "acme"
name = "Acme Inference"
alias = "acme"
legacy_aliases = ["acme-ai"]
dialect = "openai"
base_url = "https://api.acme.example/v1"
auth = "bearer"
tier = "cheap"

[[providers.models]]
id = "acme-coder-2"
context_window = 200000
"""
    price = """
[providers.acme]
source = "acme.example/pricing"

[providers.acme.models]
"acme-coder-2" = { input = 0.2, output = 0.8 }
"""
    target = tmp_path / "providers.toml"
    target.write_text(SHIPPED.read_text(encoding="utf-8") + extra, encoding="utf-8")
    prices = SHIPPED_PRICES.read_text(encoding="utf-8") + price
    (tmp_path / "pricing.toml").write_text(prices, encoding="utf-8")
    catalog = load_catalog(target)
    acme = catalog.by_alias("acme-ai")
    assert acme is not None and acme is catalog.get("acme")
    assert acme.dialect == "openai" and acme.auth == "bearer" and acme.key_required
    assert acme.find_model("acme-coder-2") == ModelInfo(
        id="acme-coder-2", context_window=200000, price=ModelPrice(input=0.2, output=0.8)
    )
    assert len(catalog.providers) == len(load_catalog(SHIPPED).providers) + 1


# --- broken catalogs -----------------------------------------------------------------------------


def test_unknown_key_is_reported(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: entry(d, "groq").update(colour="orange"))
    assert "(id 'groq')" in message
    assert "field 'colour'" in message and "unknown key" in message


def test_unknown_key_in_a_model_is_reported(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: entry(d, "openai")["models"][1].update(ctx=5))
    assert "(id 'openai')" in message and "field 'models[1].ctx'" in message


def test_wrong_dialect_is_reported(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: entry(d, "mistral").update(dialect="openia"))
    assert "(id 'mistral')" in message and "field 'dialect'" in message
    assert "'openia'" in message


def test_duplicate_alias_is_reported(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: entry(d, "together").update(alias="ds"))
    assert "(id 'together')" in message and "field 'alias'" in message
    assert "'ds'" in message and "(id 'deepseek')" in message


def test_alias_clashing_with_another_id_is_reported(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: entry(d, "ollama").update(legacy_aliases=["groq"]))
    assert "(id 'ollama')" in message and "field 'legacy_aliases'" in message
    assert "(id 'groq')" in message


def test_duplicate_id_is_reported(tmp_path: Path) -> None:
    def duplicate(data: dict[str, Any]) -> None:
        clone = dict(entry(data, "cerebras"), alias="cerebras-two")
        data["providers"].append(clone)

    message = broken(tmp_path, duplicate)
    assert "field 'id'" in message and "'cerebras' is already the id" in message


def test_a_price_in_the_catalog_is_refused(tmp_path: Path) -> None:
    message = broken(
        tmp_path, lambda d: entry(d, "anthropic")["models"][0].update(price={"input": 1.0})
    )
    assert "(id 'anthropic')" in message
    assert "field 'models[0].price'" in message and "pricing.toml" in message


def test_trailing_slash_in_base_url_is_reported(tmp_path: Path) -> None:
    message = broken(
        tmp_path, lambda d: entry(d, "fireworks").update(base_url="https://api.fireworks.ai/v1/")
    )
    assert "(id 'fireworks')" in message and "field 'base_url'" in message
    assert "must not end with '/'" in message


def test_empty_base_url_only_for_custom_templates(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: entry(d, "xai").update(base_url=""))
    assert "(id 'xai')" in message and "base_url" in message
    relative = broken(tmp_path, lambda d: entry(d, "xai").update(base_url="api.x.ai/v1"))
    assert "http:// or https://" in relative


def test_custom_template_count_is_enforced(tmp_path: Path) -> None:
    def drop_gemini_template(data: dict[str, Any]) -> None:
        data["providers"].remove(entry(data, "custom-gemini"))

    assert "no custom template for dialect 'gemini'" in broken(tmp_path, drop_gemini_template)

    def second_openai_template(data: dict[str, Any]) -> None:
        clone = dict(entry(data, "custom-openai"), id="custom-openai-2", alias="custom-openai-2")
        data["providers"].append(clone)

    message = broken(tmp_path, second_openai_template)
    assert "(id 'custom-openai-2')" in message and "field 'custom'" in message


def test_other_entry_rules(tmp_path: Path) -> None:
    def duplicate_model(data: dict[str, Any]) -> None:
        models = entry(data, "groq")["models"]
        models.append(dict(models[0]))

    assert "listed twice" in broken(tmp_path, duplicate_model)
    secret = broken(
        tmp_path, lambda d: entry(d, "openrouter")["headers"].update(Authorization="Bearer x")
    )
    assert "(id 'openrouter')" in secret and "field 'headers'" in secret
    assert "keyring" in secret
    keyless = broken(tmp_path, lambda d: entry(d, "ollama").update(key_required=True))
    assert "key_required" in keyless
    upper = broken(tmp_path, lambda d: entry(d, "groq").update(alias="Groq"))
    assert "field 'alias'" in upper
    too_long = broken(
        tmp_path, lambda d: entry(d, "openai")["models"][0].update(max_output=2_000_000)
    )
    assert "exceeds context_window" in too_long
    as_text = broken(
        tmp_path, lambda d: entry(d, "openai")["models"][0].update(context_window="1M")
    )
    assert "field 'models[0].context_window'" in as_text


def test_top_level_problems() -> None:
    data = shipped_data()
    with pytest.raises(CatalogError, match=r"prices and their date live in pricing\.toml"):
        parse_catalog({**data, "prices_as_of": "2026-11-17"})
    with pytest.raises(CatalogError, match="unknown top-level key"):
        parse_catalog({**data, "vendors": []})
    with pytest.raises(CatalogError, match=r"no \[\[providers\]\]"):
        parse_catalog({})


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    def two_faults(data: dict[str, Any]) -> None:
        entry(data, "groq").update(dialect="grpc")
        entry(data, "xai").update(tier="premium")

    message = broken(tmp_path, two_faults)
    assert "(id 'groq')" in message and "(id 'xai')" in message
    assert str(tmp_path / "providers.toml") in message


def test_models_are_frozen() -> None:
    info = ProviderInfo(
        id="x", name="X", alias="x", dialect="openai", base_url="https://x.example/v1",
        auth="bearer", tier="api-key",
    )  # fmt: skip
    with pytest.raises(ValueError, match="frozen"):
        info.alias = "y"  # type: ignore[misc]
