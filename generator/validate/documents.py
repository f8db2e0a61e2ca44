"""Read YAML streams fast and remember where each document came from.

The hot path is the Rust parser ``yaml_rs`` (duplicate keys are errors there), one call per file.
The ``---``/``...`` markers are found by plain string search, so each document's span and first
line are known without a parser that keeps positions. Exact lines inside a document are looked up
only when a finding needs one, by composing that one document again with PyYAML, which keeps node
marks. YAML 1.2 scalars apply (``yes`` is a string); ``schemacheck`` reports where YAML 1.1
booleans, which Kubernetes reads, make a difference.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml_rs

from generator.errors import KeyPath
from generator.validate.expansion import ALIASED, SELF_ALIAS, excess, has_alias
from generator.yamltext import HUGE_INT, TextError, checked_text, huge_int_line, is_huge_int, may_hold_huge_int

_RS_POSITION = re.compile(r"at line (\d+), column (\d+)")
ALIAS_REPLAY_LIMIT = 1_000_000  # yaml_rs stops expanding aliases there
_BOM = "\ufeff"


@dataclass(slots=True)
class Source:
    """Where a document is: its file and the span of the stream it was cut from."""

    path: str  # absolute
    shown: str
    start: int  # character offsets of the document's part of the stream
    end: int
    line: int  # 1-based line of ``start``

    def line_of(self, path: KeyPath = ()) -> int:
        """The line of ``path`` (its key) in this document, or of its nearest ancestor that exists."""
        return self.line + _offset_of(self.path, self.start, self.end, path) - 1


@dataclass(slots=True)
class Document:
    source: Source
    index: int  # position in its file's stream, counting only non-empty documents
    data: Any


@dataclass(slots=True)
class ReadError:
    shown: str
    line: int | None
    message: str


def split_stream(text: str) -> list[tuple[int, int, int]]:
    """(start, end, first line) of each part of a YAML stream between document markers.

    A ``---`` or ``...`` at the start of a line can only be a marker: YAML forbids it inside
    any scalar, so no parsing is needed to find them. ``str.split`` finds the ``---`` lines.
    """
    if "\n..." in text or text.startswith("..."):
        return _split_with_ends(text)
    pieces = text.split("\n---")
    bounds = [0]
    position = len(pieces[0])  # where the "\n---" before the next piece is
    for piece in pieces[1:]:
        if not piece or piece[0] in " \t\r\n":  # "----" or "---x" is no marker
            bounds.append(position + 1)
        position += 4 + len(piece)
    return _with_lines(text, bounds)


def _split_with_ends(text: str) -> list[tuple[int, int, int]]:
    """The slow path, for streams with ``...`` document end markers."""
    starts = {0}
    for match in re.finditer(r"^(?:---|\.\.\.)(?:[ \t\r\n]|$)", text, re.MULTILINE):
        if text.startswith("---", match.start()):
            starts.add(match.start())
        else:
            cut = text.find("\n", match.start())
            starts.add(len(text) if cut == -1 else cut + 1)
    return _with_lines(text, sorted(starts - {len(text)}))


def _with_lines(text: str, bounds: list[int]) -> list[tuple[int, int, int]]:
    parts = []
    line = 1
    previous = 0
    for index, start in enumerate(bounds):
        line += text.count("\n", previous, start)
        previous = start
        parts.append((start, bounds[index + 1] if index + 1 < len(bounds) else len(text), line))
    return parts


def read_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text[1:] if text.startswith(_BOM) else text


class YamlError(ValueError):
    """YAML that does not load: what is wrong, and its line in the text given (1-based); for a
    duplicate key, the line of its first occurrence too."""

    def __init__(self, what: str, line: int, first: int | None = None) -> None:
        self.what = what
        self.line = line
        self.first = first
        super().__init__(f"line {line}: {self.message}")

    @property
    def message(self) -> str:
        return self.at(1)[1]

    def at(self, offset: int) -> tuple[int, str]:
        """Line and message where the text given starts on line ``offset`` of its file."""
        if self.first is None:
            return offset + self.line - 1, self.what
        return offset + self.line - 1, f"{self.what} (first on line {offset + self.first - 1})"


def loads(text: str) -> Any:
    """``yaml_rs.loads``, its failures as a YamlError with a line: the one place they are read.

    A stream of several documents gives a list. Integers too large for Python to print are an
    error too (yaml_rs reads them, and the first message showing one would fail).
    """
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except yaml_rs.YAMLDecodeError as exc:
        raise _decode_error(text, str(exc)) from None
    if may_hold_huge_int(text) and _holds_huge_int(data):
        raise YamlError(HUGE_INT, huge_int_line(text))
    if has_alias(text):  # yaml_rs reads an alias inside its own anchor as null, where Kubernetes refuses it
        found = excess(text)
        if found is not None and found.kind == SELF_ALIAS:
            raise YamlError(found.message, found.line)
    return data


def _holds_huge_int(data: Any) -> bool:
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
            stack.extend(value.keys())
        elif isinstance(value, list):
            stack.extend(value)
        elif is_huge_int(value):
            return True
    return False


def _decode_error(text: str, message: str) -> YamlError:
    """Where and what: duplicate keys and aliases are located with PyYAML's marks, syntax errors by yaml_rs."""
    if message.startswith("duplicate mapping key"):
        found = _duplicate_key(text)
        if found is not None:
            line, key, first = found
            return YamlError(f"duplicate key '{key}'", line, first)
        return YamlError(message, 1)
    if message.startswith("alias replay limit exceeded"):
        passed = excess(text)  # where the aliases pass expansion's (smaller) bound
        return YamlError(
            f"aliases expand to more than {ALIAS_REPLAY_LIMIT:,} values (a billion laughs?)",
            passed.line if passed is not None and passed.kind == ALIASED else 1,
        )
    position = _RS_POSITION.search(message)
    what = message.strip().splitlines()[-1].strip() if message.strip() else "cannot be parsed"
    return YamlError(f"invalid YAML: {what}", int(position.group(1)) if position else 1)


def parse_stream(path: Path, shown: str, text: str | None = None) -> tuple[list[Document], list[ReadError]]:
    """Every non-empty document of a YAML file; what does not parse becomes a ReadError.

    The whole stream is parsed in one call (faster than one per document) and its documents are
    matched with the parts ``split_stream`` found; when that cannot be done unambiguously, or the
    stream does not parse, each part is parsed on its own (so one bad document spoils no other).
    ``text``: the file's text when the caller has read it already (a large file is then held once).
    """
    if text is None:
        try:
            text = checked_text(path.read_bytes(), shown)
        except TextError as exc:
            return [], [ReadError(shown, exc.problem.line, exc.problem.message)]
        except OSError as exc:
            return [], [ReadError(shown, None, f"cannot be read: {exc.strerror}")]
    parts = [part for part in split_stream(text) if _is_document(text, part[0], part[1])]
    datas = _whole(text, len(parts))
    documents: list[Document] = []
    errors: list[ReadError] = []
    absolute = str(path)
    merges = "<<" in text
    for number, (start, end, line) in enumerate(parts):
        if datas is not None:
            data = datas[number]
        else:
            try:
                data = loads(text[start:end])
            except YamlError as exc:
                errors.append(ReadError(shown, *exc.at(line)))
                continue
        if data is None:
            continue  # a document that is only a null
        if merges and "<<" in text[start:end]:
            data = resolve_merge_keys(data)
        documents.append(Document(Source(absolute, shown, start, end, line), len(documents), data))
    return documents, errors


_CONTENT = re.compile(r"^[ \t]*[^#\s]", re.MULTILINE)


def _is_document(text: str, start: int, end: int) -> bool:
    """Whether a part is a document: it opens with ``---`` (maybe an empty one) or holds content.

    Comments before the first ``---`` are no document; yaml_rs counts documents the same way.
    """
    return text.startswith("---", start) or text.startswith("%", start) or _CONTENT.search(text, start, end) is not None


def _whole(text: str, count: int) -> list[Any] | None:
    """The documents of the stream in one parse, if they line up one to one with ``count`` parts."""
    if count == 0:
        return []
    try:
        loaded = loads(text)
    except YamlError:
        return None
    if count == 1:
        return [loaded]
    return loaded if isinstance(loaded, list) and len(loaded) == count else None


def _duplicate_key(part: str) -> tuple[int, str, int] | None:
    """(line, key, line of its first occurrence) of the first duplicate key, 1-based in ``part``."""
    import yaml  # noqa: PLC0415 - only on the error path

    try:
        root = yaml.compose(part, Loader=_loader())
    except yaml.YAMLError:
        return None
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        return key.start_mark.line + 1, str(key.value), seen[key.value]
                    seen[key.value] = key.start_mark.line + 1
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def resolve_merge_keys(data: Any) -> Any:
    """Apply YAML ``<<`` merge keys (YAML 1.1, which Kubernetes reads); yaml_rs keeps them as keys."""
    if isinstance(data, list):
        return [resolve_merge_keys(item) for item in data]
    if not isinstance(data, dict):
        return data
    merged: dict[Any, Any] = {}
    if "<<" in data:
        sources = data["<<"] if isinstance(data["<<"], list) else [data["<<"]]
        for source in reversed(sources):
            if isinstance(source, dict):
                merged.update(resolve_merge_keys(source))
    for key, value in data.items():
        if key != "<<":
            merged[key] = resolve_merge_keys(value)
    return merged


def _loader() -> Any:
    import yaml  # noqa: PLC0415

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=64)
def _composed(path: str, start: int, end: int, modified: int) -> Any:
    """One document's node tree; ``modified`` (the file's mtime) keeps a changed file from a stale entry."""
    import yaml  # noqa: PLC0415 - only when a finding needs a line

    try:
        part = read_text(Path(path))[start:end]
        return yaml.compose(part, Loader=_loader())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _offset_of(path: str, start: int, end: int, keys: KeyPath) -> int:
    import yaml  # noqa: PLC0415

    try:
        modified = os.stat(path).st_mtime_ns
    except OSError:
        return 1
    node = _composed(path, start, end, modified)
    if node is None:
        return 1
    line: int = node.start_mark.line + 1
    for key in keys:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
