"""Helpers the dialect tests share: fixture files, common-form values as JSON data, decoding a stream."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable

from core.gateway.dialects.common import Dialect, Event

FIXTURES = Path(__file__).parent / "fixtures"


def fixtures(folder: str) -> Callable[[str], Any]:
    """`load(name)` for fixtures/<folder>/: a `.json` file parsed, any other as text."""

    def load(name: str) -> Any:
        text = (FIXTURES / folder / name).read_text(encoding="utf-8")
        return json.loads(text) if name.endswith(".json") else text

    return load


def raw_fixtures(folder: str) -> Callable[[str], bytes]:
    """`raw(name)`: the bytes of fixtures/<folder>/<name> (recorded streams)."""
    return lambda name: (FIXTURES / folder / name).read_bytes()


def plain(value: Any) -> Any:
    """A common-form value as JSON data, each dataclass tagged with its class name."""
    if dataclasses.is_dataclass(value):
        fields = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "payload"}
        return {"_type": type(value).__name__, **fields}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def decode_stream(dialect: Dialect, data: bytes, cuts: list[int] | None = None) -> list[Event]:
    """The events of an upstream stream fed to `dialect`'s decoder in pieces cut at `cuts`, then closed."""
    decoder = dialect.stream_decoder()
    bounds = [0, *(cuts or []), len(data)]
    events = [event for start, end in zip(bounds, bounds[1:]) for event in decoder.feed(data[start:end])]
    return events + decoder.close()
