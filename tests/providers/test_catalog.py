"""The provider catalogue: consistent data, model-name splitting, prices with overrides, cost, upstream auth."""

from __future__ import annotations

import copy

import pytest

from core.providers import catalog_data
from core.providers.catalog import (
    CatalogError,
    ModelPrice,
    build_catalog,
    cost_usd,
    get_provider,
    price_for,
    providers,
    split_model_name,
    upstream_auth_headers,
    validate_price_override,
)

REQUIRED_PROVIDERS = [
    "openai", "anthropic", "gemini", "openrouter", "deepseek", "groq", "mistral", "xai", "together",
    "fireworks", "cerebras", "perplexity", "nvidia", "zhipu", "zai", "moonshot", "dashscope", "minimax",
    "siliconflow", "ollama", "lmstudio",
]  # fmt: skip


def _data_with(**changes: object) -> list[dict]:
    """A copy of the real catalogue data with fields of its first provider (OpenAI) changed."""
    data = copy.deepcopy(catalog_data.PROVIDERS)
    data[0].update(changes)
    return data


# --- the data is consistent ---------------------------------------------------------------------


def test_every_required_provider_is_in_the_catalogue() -> None:
    assert set(REQUIRED_PROVIDERS) <= {p.id for p in providers()}


def test_providers_keep_the_order_of_the_data() -> None:
    assert [p.id for p in providers()] == [entry["id"] for entry in catalog_data.PROVIDERS]


def test_no_two_providers_share_a_name() -> None:
    names = [name for p in providers() for name in p.names]
    assert len(names) == len(set(names))


def test_every_model_has_a_kind() -> None:
    assert all(m.kind in ("chat", "embedding", "image", "transcription") for p in providers() for m in p.models)


def test_every_known_price_is_non_negative() -> None:
    prices = [getattr(m.price, f) for p in providers() for m in p.models for f in ("input", "output", "cached_input")]
    assert all(price >= 0 for price in prices if price is not None)


def test_cloud_providers_use_https_and_local_ones_loopback() -> None:
    for p in providers():
        assert p.base_url.startswith("http://127.0.0.1:" if p.local else "https://"), p.id


def test_local_providers_need_no_key() -> None:
    assert {p.id for p in providers() if p.local} == {"ollama", "lmstudio"}
    assert all(p.auth == "none" for p in providers() if p.local)


def test_anthropic_speaks_messages_with_its_version_header() -> None:
    anthropic = get_provider("anthropic")
    assert (anthropic.format, anthropic.auth) == ("anthropic", "x-api-key")
    assert anthropic.headers == {"anthropic-version": "2023-06-01"}


def test_gemini_has_a_native_root_and_an_openai_compatible_one() -> None:
    gemini = get_provider("gemini")
    assert gemini.base_url_for("gemini") == "https://generativelanguage.googleapis.com/v1beta"
    assert gemini.base_url_for("openai") == "https://generativelanguage.googleapis.com/v1beta/openai"


def test_an_openai_format_provider_has_no_other_root() -> None:
    deepseek = get_provider("deepseek")
    assert deepseek.base_url_for("openai") == deepseek.base_url
    assert deepseek.base_url_for("anthropic") is None


# --- inconsistent data stops the import ---------------------------------------------------------


def test_a_prefix_used_twice_is_rejected() -> None:
    with pytest.raises(CatalogError, match="'ds' is already used"):
        build_catalog(_data_with(prefix="ds"))


def test_an_alias_equal_to_another_providers_id_is_rejected() -> None:
    with pytest.raises(CatalogError, match="'gemini' is already used"):
        build_catalog(_data_with(aliases=["gemini"]))


def test_an_unknown_format_is_rejected() -> None:
    with pytest.raises(CatalogError, match="format"):
        build_catalog(_data_with(format="soap"))


def test_an_unknown_auth_style_is_rejected() -> None:
    with pytest.raises(CatalogError, match="auth"):
        build_catalog(_data_with(auth="cookie"))


def test_a_plain_http_cloud_url_is_rejected() -> None:
    with pytest.raises(CatalogError, match="must use https"):
        build_catalog(_data_with(base_url="http://api.openai.com/v1"))


def test_a_local_provider_off_this_machine_is_rejected() -> None:
    with pytest.raises(CatalogError, match="not a loopback address"):
        build_catalog(_data_with(local=True, auth="none", base_url="https://api.openai.com/v1"))


def test_a_base_url_with_a_trailing_slash_is_rejected() -> None:
    with pytest.raises(CatalogError, match="no trailing slash"):
        build_catalog(_data_with(base_url="https://api.openai.com/v1/"))


def test_a_negative_price_is_rejected() -> None:
    data = _data_with()
    data[0]["models"][0]["input"] = -1
    with pytest.raises(CatalogError, match="non-negative"):
        build_catalog(data)


def test_a_misspelt_field_is_rejected() -> None:
    with pytest.raises(CatalogError, match="unknown field"):
        build_catalog(_data_with(base_ulr="https://api.openai.com/v1"))


# --- provider lookup and model names ------------------------------------------------------------


def test_a_provider_is_found_by_id_prefix_or_alias_in_any_case() -> None:
    assert get_provider("deepseek") is get_provider("DS") is get_provider(" ds ")
    assert get_provider("Z.AI") is get_provider("glm") is get_provider("zai")


def test_an_unknown_provider_name_is_none() -> None:
    assert get_provider("nope") is None


def test_a_prefixed_model_name_splits_into_provider_and_model() -> None:
    assert split_model_name("ds/deepseek-chat") == (get_provider("deepseek"), "deepseek-chat")


def test_only_the_first_slash_splits_a_model_name() -> None:
    provider, model = split_model_name("openrouter/anthropic/claude-3.5-sonnet")
    assert (provider.id, model) == ("openrouter", "anthropic/claude-3.5-sonnet")


def test_a_nested_model_id_keeps_its_case() -> None:
    provider, model = split_model_name("Together/meta-llama/Llama-3.3-70B-Instruct-Turbo")
    assert (provider.id, model) == ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo")


def test_a_model_name_with_an_unknown_prefix_is_none() -> None:
    assert split_model_name("mynode/llama3") is None


def test_a_model_name_without_a_prefix_is_none() -> None:
    assert split_model_name("deepseek-chat") is None


def test_a_prefix_without_a_model_is_none() -> None:
    assert split_model_name("ds/") is None


# --- prices -------------------------------------------------------------------------------------


def test_a_catalogue_model_has_its_listed_price() -> None:
    assert price_for("deepseek", "deepseek-chat") == ModelPrice(input=0.28, output=0.42, cached_input=0.028)


def test_a_model_outside_the_catalogue_has_an_unknown_price() -> None:
    assert price_for("openai", "gpt-from-the-future") == ModelPrice()


def test_an_override_replaces_only_the_fields_it_sets() -> None:
    price = price_for("deepseek", "deepseek-chat", {"deepseek/deepseek-chat": {"output": 1.0}})
    assert price == ModelPrice(input=0.28, output=1.0, cached_input=0.028)


def test_an_override_key_may_use_the_prefix_or_an_alias() -> None:
    overrides = {"DS/deepseek-chat": {"input": 0.5}}
    assert price_for("deepseek", "deepseek-chat", overrides).input == 0.5


def test_an_override_for_another_model_does_not_apply() -> None:
    overrides = {"ds/deepseek-reasoner": {"input": 9.0}}
    assert price_for("deepseek", "deepseek-chat", overrides).input == 0.28


def test_an_override_prices_a_custom_endpoint_model() -> None:
    overrides = {"mynode/llama3": {"input": 0.1, "output": 0.2}}
    assert price_for("mynode", "llama3", overrides) == ModelPrice(input=0.1, output=0.2)


def test_an_override_with_a_negative_price_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        validate_price_override("ds/deepseek-chat", {"input": -0.1})


def test_an_override_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="only input, output, cached_input"):
        validate_price_override("ds/deepseek-chat", {"inptu": 0.1})


# --- cost ---------------------------------------------------------------------------------------


def test_cost_bills_input_and_output_per_million_tokens() -> None:
    price = ModelPrice(input=2.0, output=8.0)
    assert cost_usd(price, tokens_in=1_000_000, tokens_out=500_000) == pytest.approx(6.0)


def test_cached_tokens_are_part_of_the_input_and_billed_at_the_cached_price() -> None:
    price = ModelPrice(input=2.0, output=8.0, cached_input=0.5)
    # 600k fresh * $2 + 400k cached * $0.5 + 100k out * $8
    assert cost_usd(price, 1_000_000, 100_000, tokens_cached=400_000) == pytest.approx(1.2 + 0.2 + 0.8)


def test_cached_tokens_cost_the_input_price_when_no_cached_price_is_known() -> None:
    price = ModelPrice(input=2.0, output=8.0)
    assert cost_usd(price, 1_000_000, 0, tokens_cached=400_000) == pytest.approx(2.0)


def test_unknown_prices_cost_nothing() -> None:
    assert cost_usd(ModelPrice(), 1_000, 1_000, 500) == 0.0


def test_more_cached_than_input_tokens_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot exceed"):
        cost_usd(ModelPrice(input=1.0), tokens_in=10, tokens_out=0, tokens_cached=11)


# --- upstream auth headers ----------------------------------------------------------------------


def test_bearer_auth_sends_an_authorization_header() -> None:
    assert upstream_auth_headers(get_provider("openai"), "sk-1") == {"Authorization": "Bearer sk-1"}


def test_anthropic_auth_sends_x_api_key_and_its_version() -> None:
    headers = upstream_auth_headers(get_provider("anthropic"), "sk-ant-1")
    assert headers == {"x-api-key": "sk-ant-1", "anthropic-version": "2023-06-01"}


def test_gemini_native_auth_sends_x_goog_api_key() -> None:
    assert upstream_auth_headers(get_provider("gemini"), "AIza1") == {"x-goog-api-key": "AIza1"}


def test_gemini_openai_compatible_auth_is_bearer() -> None:
    headers = upstream_auth_headers(get_provider("gemini"), "AIza1", wire_format="openai")
    assert headers == {"Authorization": "Bearer AIza1"}


def test_fixed_provider_headers_come_with_the_key() -> None:
    headers = upstream_auth_headers(get_provider("openrouter"), "sk-or-1")
    assert headers == {"X-Title": "Quotagate", "Authorization": "Bearer sk-or-1"}


def test_a_local_provider_sends_no_auth_without_a_key() -> None:
    assert upstream_auth_headers(get_provider("ollama"), None) == {}


def test_a_local_provider_sends_a_key_the_user_set_as_bearer() -> None:
    assert upstream_auth_headers(get_provider("lmstudio"), "tok") == {"Authorization": "Bearer tok"}


def test_a_cloud_provider_without_a_key_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs an API key"):
        upstream_auth_headers(get_provider("groq"), "")


def test_a_format_the_provider_does_not_speak_is_an_error() -> None:
    with pytest.raises(ValueError, match="no anthropic-format endpoint"):
        upstream_auth_headers(get_provider("groq"), "gsk-1", wire_format="anthropic")
