"""Edit JSON (and JSON with comments) as text: set or remove one member and leave every other byte as it was.

Re-serialising a parsed file would reflow the user's arrays, drop their comments and change their escapes, so
the parser here only finds where each value starts and ends; edits splice text at those offsets, in the file's
own indentation."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_WS = " \t\r\n\ufeff"
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


class JsoncError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Node:
    start: int
    end: int
    value: Any = None
    members: list[Member] = field(default_factory=list)  # objects only
    is_object: bool = False


@dataclass
class Member:
    key: str
    key_start: int
    node: Node


class _Parser:
    def __init__(self, text: str, comments: bool) -> None:
        self.text, self.comments, self.pos = text, comments, 0

    def fail(self, message: str, at: int | None = None) -> JsoncError:
        at = self.pos if at is None else at
        return JsoncError(message, self.text.count("\n", 0, at) + 1)

    def skip(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in _WS:
                self.pos += 1
            elif self.comments and text.startswith("//", self.pos):
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline
            elif self.comments and text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close < 0:
                    raise self.fail("unclosed comment")
                self.pos = close + 2
            else:
                return

    def value(self, depth: int = 0) -> Node:
        if depth > 200:
            raise self.fail("nested too deeply")
        self.skip()
        if self.pos >= len(self.text):
            raise self.fail("unexpected end of file")
        char, start = self.text[self.pos], self.pos
        if char == "{":
            return self.object(depth)
        if char == "[":
            self.pos += 1
            items = []
            while True:
                self.skip()
                if self.text.startswith("]", self.pos):
                    self.pos += 1
                    return Node(start, self.pos, [item.value for item in items])
                items.append(self.value(depth + 1))
                if not self.comma("]", items):
                    continue
        if char == '"':
            return Node(start, self.string_end(), json.loads(self.text[start:self.pos]))
        for word, literal in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Node(start, self.pos, literal)
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return Node(start, self.pos, json.loads(match.group()))
        raise self.fail(f"unexpected {char!r}")

    def comma(self, close: str, items: list) -> bool:
        self.skip()
        if self.text.startswith(",", self.pos):
            self.pos += 1
            self.skip()
            if self.text.startswith(close, self.pos) and not self.comments:
                raise self.fail("trailing comma")
            return True
        if not self.text.startswith(close, self.pos):
            raise self.fail(f"expected ',' or '{close}'")
        return True

    def string_end(self) -> int:
        text, pos = self.text, self.pos + 1
        while pos < len(text):
            char = text[pos]
            if char == "\\":
                pos += 2
            elif char == '"':
                self.pos = pos + 1
                return self.pos
            elif char == "\n":
                break
            else:
                pos += 1
        raise self.fail("unterminated string")

    def object(self, depth: int) -> Node:
        node = Node(self.pos, 0, {}, is_object=True)
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                node.end = self.pos
                return node
            if not self.text.startswith('"', self.pos):
                raise self.fail("expected a quoted key")
            key_start = self.pos
            key = json.loads(self.text[key_start:self.string_end()])
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.fail("expected ':'")
            self.pos += 1
            child = self.value(depth + 1)
            node.members = [m for m in node.members if m.key != key] + [Member(key, key_start, child)]
            node.value[key] = child.value
            self.comma("}", node.members)


def parse(text: str, *, comments: bool = False) -> Node:
    """The document's tree with offsets; `JsoncError` (with its line) when it is not JSON (JSONC)."""
    parser = _Parser(text, comments)
    root = parser.value()
    parser.skip()
    if parser.pos != len(text):
        raise parser.fail("unexpected text after the end of the document")
    return root


def indent_unit(text: str) -> str:
    """The file's own indentation step (two spaces when it has none)."""
    match = re.search(r"\n([ \t]+)\S", text)
    return match.group(1) if match else "  "


def _line_indent(text: str, at: int) -> str:
    line_start = text.rfind("\n", 0, at) + 1
    match = re.match(r"[ \t]*", text[line_start:])
    return match.group() if match else ""


def dump(value: Any, unit: str, base: str) -> str:
    out = json.dumps(value, indent=unit if isinstance(value, (dict, list)) else None, ensure_ascii=False)
    return out.replace("\n", "\n" + base)


def find(root: Node, path: tuple[str, ...]) -> Node | None:
    node: Node | None = root
    for key in path:
        if node is None or not node.is_object:
            return None
        node = next((m.node for m in node.members if m.key == key), None)
    return node


def set_value(text: str, path: tuple[str, ...], value: Any, *, comments: bool = False) -> str:
    """`text` with the member at `path` set to `value` (created, with any missing parents, when absent)."""
    root = parse(text, comments=comments)
    unit = indent_unit(text)
    existing = find(root, path)
    if existing is not None:
        base = _line_indent(text, existing.start)
        return text[:existing.start] + dump(value, unit, base) + text[existing.end:]
    # the deepest existing object on the way, and what to create inside it
    parent, depth = root, 0
    while depth < len(path) - 1:
        child = find(parent, (path[depth],))
        if child is None:
            break
        parent, depth = child, depth + 1
    if not parent.is_object:
        raise JsoncError(f"{'.'.join(path[:depth]) or 'the document'} is not an object", 0)
    created: Any = value
    for key in reversed(path[depth + 1:]):
        created = {key: created}
    return insert_member(text, parent, path[depth], created, unit)


def insert_member(text: str, obj: Node, key: str, value: Any, unit: str) -> str:
    outer = _line_indent(text, obj.start)
    if obj.members:
        inner = _line_indent(text, obj.members[-1].key_start)
    else:
        inner = outer + unit
    member = f"{json.dumps(key, ensure_ascii=False)}: {dump(value, unit, inner)}"
    if obj.members and "\n" not in text[obj.start:obj.end]:  # a one-line object stays on one line
        inline = f"{json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}"
        last_end = obj.members[-1].node.end
        return text[:last_end] + ", " + inline + text[last_end:]
    if not obj.members:
        return text[:obj.start] + "{\n" + inner + member + "\n" + outer + "}" + text[obj.end:]
    last_end = obj.members[-1].node.end
    close = obj.end - 1
    # keep a trailing comma or comment where it is; the new member goes after it, before the closing brace
    content_end = close
    while content_end > last_end and text[content_end - 1] in _WS:
        content_end -= 1
    between = text[last_end:content_end]
    has_comma = "," in _strip_comments(between)
    if has_comma:
        return text[:content_end] + "\n" + inner + member + text[content_end:]
    return text[:last_end] + "," + text[last_end:content_end] + "\n" + inner + member + text[content_end:]


def _starts_line(text: str, at: int) -> bool:
    return text[text.rfind("\n", 0, at) + 1:at].strip() == ""


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.DOTALL)


def remove_member(text: str, path: tuple[str, ...], *, comments: bool = False) -> str:
    """`text` without the member at `path` (unchanged when it is not there)."""
    root = parse(text, comments=comments)
    parent = find(root, path[:-1])
    if parent is None or not parent.is_object:
        return text
    index = next((i for i, m in enumerate(parent.members) if m.key == path[-1]), None)
    if index is None:
        return text
    member = parent.members[index]
    if len(parent.members) == 1:
        return text[:parent.start] + "{}" + text[parent.end:]
    if index > 0:  # from the end of the previous value: its comma, our line, our value
        return text[:parent.members[index - 1].node.end] + text[member.node.end:]
    following = parent.members[1]
    line_start = text.rfind("\n", 0, member.key_start) + 1
    start = line_start if text[line_start:member.key_start].strip() == "" and \
        _starts_line(text, following.key_start) else member.key_start
    next_start = text.rfind("\n", 0, following.key_start) + 1 if start == line_start else following.key_start
    return text[:start] + text[next_start:]
