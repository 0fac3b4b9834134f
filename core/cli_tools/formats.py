"""The file formats tools keep their settings in, behind one small interface: read a value at a key path,
set one, remove one — each an edit of the text that leaves everything else as the user wrote it."""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

import tomlkit
import tomlkit.exceptions
from tomlkit.container import Container
from tomlkit.items import InlineTable, Item, Table

from core.cli_tools import jsonc

Path_ = tuple[str, ...]
MISSING = object()


class FormatError(ValueError):
    """The text does not parse; `line` is where (1-based, 0 when unknown)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class Format(Protocol):
    name: str  # for messages
    key: str  # kept in undo records

    def check(self, text: str) -> None: ...
    def get(self, text: str, path: Path_) -> Any: ...  # MISSING when absent
    def set(self, text: str, path: Path_, value: Any) -> str: ...
    def remove(self, text: str, path: Path_) -> str: ...


class JsonFormat:
    """JSON, or JSON with comments and trailing commas (`comments=True`, as OpenCode reads it)."""

    def __init__(self, comments: bool = False) -> None:
        self.comments = comments
        self.name = "JSONC" if comments else "JSON"
        self.key = "jsonc" if comments else "json"

    def _parse(self, text: str) -> jsonc.Node:
        try:
            root = jsonc.parse(text if text.strip() else "{}", comments=self.comments)
        except jsonc.JsoncError as exc:
            raise FormatError(str(exc), exc.line) from None
        if not root.is_object:
            raise FormatError("the top level is not an object", 1)
        return root

    def check(self, text: str) -> None:
        self._parse(text)

    def get(self, text: str, path: Path_) -> Any:
        node = jsonc.find(self._parse(text), path)
        return MISSING if node is None else node.value

    def set(self, text: str, path: Path_, value: Any) -> str:
        if not text.strip():
            return json.dumps(_nest(path, value), indent=2, ensure_ascii=False) + "\n"
        self._parse(text)
        try:
            return jsonc.set_value(text, path, value, comments=self.comments)
        except jsonc.JsoncError as exc:
            raise FormatError(str(exc), exc.line) from None

    def remove(self, text: str, path: Path_) -> str:
        self._parse(text)
        return jsonc.remove_member(text, path, comments=self.comments)


class TomlFormat:
    """TOML through tomlkit, which keeps comments, order and whitespace of everything it was not asked to change."""

    name = "TOML"
    key = "toml"

    def _parse(self, text: str) -> tomlkit.TOMLDocument:
        try:
            return tomlkit.parse(text)
        except tomlkit.exceptions.ParseError as exc:
            raise FormatError(str(exc), exc.line) from None
        except Exception as exc:  # noqa: BLE001 - tomlkit raises a few other kinds on odd input
            raise FormatError(str(exc), 0) from None

    def check(self, text: str) -> None:
        self._parse(text)

    def get(self, text: str, path: Path_) -> Any:
        node: Any = self._parse(text)
        for key in path:
            if not isinstance(node, (Container, Table, InlineTable, dict)) or key not in node:
                return MISSING
            node = node[key]
        return node.unwrap() if isinstance(node, (Item, Container)) else node

    def set(self, text: str, path: Path_, value: Any) -> str:
        doc = self._parse(text)
        node: Any = doc
        for key in path[:-1]:
            if key not in node:
                node[key] = tomlkit.table(is_super_table=True)
            node = node[key]
            if not isinstance(node, (Container, Table, InlineTable, dict)):
                raise FormatError(f"{key} is not a table", 0)
        try:
            node[path[-1]] = _toml_value(value, inline=isinstance(node, InlineTable))
        except (ValueError, TypeError) as exc:  # tomlkit's refusals (a key that clashes, a type it cannot hold)
            raise FormatError(str(exc), 0) from None
        return tomlkit.dumps(doc)

    def remove(self, text: str, path: Path_) -> str:
        doc = self._parse(text)
        node: Any = doc
        for key in path[:-1]:
            if not isinstance(node, (Container, Table, InlineTable, dict)) or key not in node:
                return text
            node = node[key]
        if path[-1] not in node:
            return text
        del node[path[-1]]
        return tomlkit.dumps(doc)


def _toml_value(value: Any, inline: bool = False) -> Any:
    """A dict as a `[table]`, or as an inline `{ … }` where it goes inside one."""
    if isinstance(value, dict):
        table = tomlkit.inline_table() if inline else tomlkit.table()
        for key, item in value.items():
            table[key] = _toml_value(item, inline)
        return table
    return value


_ENV_LINE = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")  # prefix, key, value


class DotenvFormat:
    """`KEY=value` lines (a `.env` file); paths are one key long."""

    name = ".env"
    key = "dotenv"

    def check(self, text: str) -> None:
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#") and not _ENV_LINE.match(line):
                raise FormatError("expected KEY=value", number)

    def _find(self, text: str, key: str) -> tuple[int, re.Match[str]] | None:
        found = None
        for index, line in enumerate(text.splitlines(keepends=True)):
            match = _ENV_LINE.match(line.rstrip("\r\n"))
            if match and match.group(2) == key:
                found = (index, match)  # the last one wins, as dotenv loaders read it
        return found

    def get(self, text: str, path: Path_) -> Any:
        self.check(text)
        found = self._find(text, path[0])
        return MISSING if found is None else _unquote(found[1].group(3))

    def set(self, text: str, path: Path_, value: Any) -> str:
        self.check(text)
        line = f"{path[0]}={_quote(str(value))}"
        found = self._find(text, path[0])
        lines = text.splitlines(keepends=True)
        if found is None:
            if text and not text.endswith("\n"):
                text += "\n"
            return text + line + "\n"
        index, match = found
        ending = lines[index][len(lines[index].rstrip("\r\n")):]
        lines[index] = match.group(1) + line + ending  # an `export ` the user wrote stays
        return "".join(lines)

    def remove(self, text: str, path: Path_) -> str:
        self.check(text)
        found = self._find(text, path[0])
        if found is None:
            return text
        lines = text.splitlines(keepends=True)
        del lines[found[0]]
        return "".join(lines)


def _quote(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_./:@+-]*", value) else json.dumps(value)


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw.split(" #")[0].strip()


def _nest(path: Path_, value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


FORMATS: dict[str, Format] = {fmt.key: fmt for fmt in (JsonFormat(), JsonFormat(comments=True), TomlFormat(),
                                                       DotenvFormat())}
