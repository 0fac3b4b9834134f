"""QUOTAGATE_HOST_MAP: requests for a mapped host go to another origin; path and query stay the same."""

from __future__ import annotations

import pytest

from core.net import HostMap, HostMapError
from core.settings import SettingError


def test_a_mapped_host_gets_the_new_scheme_host_and_port_and_keeps_path_and_query() -> None:
    mapping = HostMap.parse("chatgpt.com=http://127.0.0.1:9001")
    assert (mapping.rewrite("https://chatgpt.com/backend-api/wham/usage?x=1&y=2")
            == "http://127.0.0.1:9001/backend-api/wham/usage?x=1&y=2")


def test_hosts_that_are_not_mapped_are_left_alone() -> None:
    mapping = HostMap.parse("chatgpt.com=http://127.0.0.1:9001")
    assert mapping.rewrite("https://api.github.com/copilot_internal/user") == "https://api.github.com/copilot_internal/user"


def test_several_entries_may_point_at_the_same_origin() -> None:
    mapping = HostMap.parse(" chatgpt.com=http://127.0.0.1:9001 , api.z.ai=http://127.0.0.1:9001 ")
    assert mapping.rewrite("https://api.z.ai/api/monitor/usage/quota/limit") == (
        "http://127.0.0.1:9001/api/monitor/usage/quota/limit")


def test_host_names_match_case_insensitively() -> None:
    assert HostMap.parse("API.Z.AI=http://127.0.0.1:1").rewrite("https://api.z.ai/x") == "http://127.0.0.1:1/x"


def test_an_entry_with_a_port_maps_only_that_port() -> None:
    mapping = HostMap.parse("example.org:8443=http://127.0.0.1:1")
    assert mapping.rewrite("https://example.org:8443/a") == "http://127.0.0.1:1/a"
    assert mapping.rewrite("https://example.org/a") == "https://example.org/a"


def test_an_empty_value_maps_nothing() -> None:
    assert not HostMap.parse("")
    assert HostMap.from_environment({}).rewrite("https://chatgpt.com/a") == "https://chatgpt.com/a"


@pytest.mark.parametrize("value", ["chatgpt.com", "chatgpt.com=", "=http://127.0.0.1:1", "chatgpt.com=ftp://x",
                                   "chatgpt.com=http://127.0.0.1:1/prefix", "chatgpt.com=http://127.0.0.1:99999",
                                   "https://chatgpt.com=http://127.0.0.1:1"])
def test_a_malformed_value_is_a_setting_error_naming_the_variable(value: str) -> None:
    with pytest.raises(HostMapError, match="QUOTAGATE_HOST_MAP") as raised:
        HostMap.parse(value)
    assert isinstance(raised.value, SettingError)
