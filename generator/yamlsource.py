"""Read YAML while remembering where every key and value came from.

Settings errors must point at ``file:line:col``; PyYAML's composer gives node marks,
so we build plain Python data from the node tree ourselves and keep the marks by path.
Whatever a person can type becomes a located problem here, never an exception: duplicate keys
(which PyYAML silently accepts), tags, scalars that do not construct (a 5000-digit integer, the
date 2001-13-45), aliases that expand without bound or into themselves, and nesting past a bound
(the last three measured from parser events by validate.expansion, as validate does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import KeyPath, Problem, SettingsError, UsageError, dotted
from generator.validate import expansion
from generator.yamltext import HUGE_INT, TextError, checked_text, forbidden_character, is_huge_int, line_col_of_byte

try:  # the C composer is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class SourceMap:
    """Positions of keys and values of one YAML document, by path."""

    file: str
    keys: dict[KeyPath, Pos] = field(default_factory=dict)
    values: dict[KeyPath, Pos] = field(default_factory=dict)


@dataclass
class Sources:
    """Positions across files: a document from another file may be mounted at a path."""

    root: SourceMap
    mounts: dict[KeyPath, SourceMap] = field(default_factory=dict)
    # paths of the typed settings that were written elsewhere (model_changes): the path a message shows
    renamed: dict[KeyPath, KeyPath] = field(default_factory=dict)

    def written_path(self, path: KeyPath) -> KeyPath:
        """``path`` as the user wrote it: under the longest renamed prefix, that prefix's written path."""
        for cut in range(len(path), 0, -1):
            written = self.renamed.get(path[:cut])
            if written is not None:
                return (*written, *path[cut:])
        return path

    def _resolve(self, path: KeyPath) -> tuple[SourceMap, KeyPath]:
        best: KeyPath | None = None
        for prefix in self.mounts:
            if path[: len(prefix)] == prefix and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is None:
            return self.root, path
        return self.mounts[best], path[len(best) :]

    def locate(self, path: KeyPath, *, at_key: bool) -> tuple[str, Pos | None]:
        """File and position of ``path``: its key or its value, else its nearest known ancestor."""
        source, rel = self._resolve(path)
        table = source.keys if at_key else source.values
        if rel in table:
            return source.file, table[rel]
        probe = rel
        while probe:
            probe = probe[:-1]
            if probe in source.keys:
                return source.file, source.keys[probe]
        return source.file, source.values.get((), Pos(1, 1))

    def view(self, path: KeyPath) -> SourceMap:
        """The positions under ``path``, with the path taken off: to mount them at another path."""
        source, rel = self._resolve(path)
        n = len(rel)
        keys = {k[n:]: v for k, v in source.keys.items() if k[:n] == rel}
        values = {k[n:]: v for k, v in source.values.items() if k[:n] == rel}
        return SourceMap(source.file, keys, values)

    def written(self, path: KeyPath) -> bool:
        """Whether ``path`` is written in its file (else it takes its default)."""
        source, rel = self._resolve(path)
        return rel in source.keys or rel in source.values


# the bound validate keeps for kubectl; the builder's recursion stays far from Python's limit below it
MAX_DEPTH = expansion.MAX_DEPTH
_EXCESS_WORDS = {
    expansion.ALIASED: "aliases expand to more than 1.5 MiB (a billion laughs?); write the values out",
    expansion.DEEP: f"nested more than {MAX_DEPTH} levels deep",
}

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_STD}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
_STD_TAGS = {f"{_STD}{name}" for name in ("binary", "set", "omap", "pairs", "merge", "value", "yaml")}


class _Built(Exception):
    """A problem that stops building: the value at ``path`` cannot become data."""

    def __init__(self, node: yaml.Node, path: KeyPath, message: str) -> None:
        self.node = node
        self.path = path
        self.message = message


class _Builder:
    def __init__(self, file: str, text: str) -> None:
        self.map = SourceMap(file)
        self.text = text
        self.constructor = yaml.constructor.SafeConstructor()
        self.problems: list[Problem] = []
        self.open: set[int] = set()  # ids of the collections being built: an alias to one is a cycle

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.map.values[path] = _pos(node)
        if len(path) > MAX_DEPTH:
            raise _Built(node, (), f"nested more than {MAX_DEPTH} levels deep")  # a path that long says nothing
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.open:
            raise _Built(node, path, "an alias refers to the value that contains it")
        self.check_collection_tag(node, path)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            assert isinstance(node, yaml.SequenceNode)  # noqa: S101 - the three kinds of node
            return self.sequence(node, path)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        try:
            self.constructor.flatten_mapping(node)  # resolve `<<` merge keys
        except yaml.MarkedYAMLError as exc:
            raise _Built(node, path, f"invalid YAML: {exc.problem or exc.context}") from None
        result: dict[str, Any] = {}
        first_seen: dict[str, Pos] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(_problem(self.map.file, _pos(key_node), path, "keys must be plain strings"))
                continue
            key = str(key_node.value)
            key_pos = _pos(key_node)
            child = (*path, key)
            if self.tagged(key_node):
                self.problems.append(_problem(self.map.file, key_pos, child, _tag_message(key_node.tag)))
                continue
            if key in first_seen:
                self.problems.append(
                    _problem(
                        self.map.file, key_pos, child, f"duplicate key (first defined on line {first_seen[key].line})"
                    )
                )
                continue
            first_seen[key] = key_pos
            self.map.keys[child] = key_pos
            result[key] = self.build(value_node, child)
        return result

    def sequence(self, node: yaml.SequenceNode, path: KeyPath) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.map.keys[(*path, index)] = _pos(item)
            items.append(self.build(item, (*path, index)))
        return items

    def tagged(self, node: yaml.Node) -> bool:
        """Whether the node is written with a tag (a slice: str.startswith with an offset scans the text)."""
        index = node.start_mark.index
        return self.text[index : index + 1] == "!"

    def check_collection_tag(self, node: yaml.Node, path: KeyPath) -> None:
        expected = f"{_STD}map" if isinstance(node, yaml.MappingNode) else f"{_STD}seq"
        if node.tag != expected:
            raise _Built(node, path, _tag_message(node.tag))

    def scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        tag = node.tag
        if tag == f"{_STD}value" and not self.tagged(node):
            return node.value  # a plain `=`: PyYAML resolves it to a tag it cannot construct
        if tag not in _SCALAR_TAGS:
            raise _Built(node, path, _tag_message(tag))
        try:
            value = self.constructor.construct_object(node, deep=True)
        except Exception as exc:  # a scalar that does not construct is the input's fault, whatever the error
            raise _Built(node, path, _scalar_message(node, exc)) from None
        if is_huge_int(value):  # 0x... and 0o... are not bounded by Python's 4300 digits when read
            raise _Built(node, path, HUGE_INT)
        return value


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_STD) if tag.startswith(_STD) else tag


def _tag_message(tag: str) -> str:
    if tag.startswith(_STD) and (tag in _STD_TAGS or tag in _SCALAR_TAGS or tag in {f"{_STD}map", f"{_STD}seq"}):
        return f"the tag {_short_tag(tag)} is not supported here; remove it"
    return f"unknown tag '{_short_tag(tag)}'; clusterforge reads plain YAML values, remove the tag"


_KIND_WORDS = {"timestamp": "date", "int": "integer", "float": "number", "bool": "true or false"}


def _scalar_message(node: yaml.ScalarNode, exc: Exception) -> str:
    kind = node.tag.removeprefix(_STD)
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return HUGE_INT
    reason = exc.problem if isinstance(exc, yaml.MarkedYAMLError) and exc.problem else str(exc)
    shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"'{shown}' reads as a {_KIND_WORDS.get(kind, kind)} but is not one ({reason}); quote it to make it a string"


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _problem(file: str, pos: Pos, path: KeyPath, message: str) -> Problem:
    return Problem(file, pos.line, pos.col, dotted(path), message)


def syntax_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    """Where and what of a PyYAML parse failure: the one place its errors become problems."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "cannot be parsed"
        if mark is None:
            return Problem(file, 1, 1, "", f"invalid YAML: {what}")
        return Problem(file, mark.line + 1, mark.column + 1, "", f"invalid YAML: {what}")
    if isinstance(exc, yaml.reader.ReaderError):  # libyaml counts bytes of the UTF-8 text
        line, col = line_col_of_byte(text.encode("utf-8", "surrogatepass"), exc.position)
        return Problem(file, line, col, "", f"invalid YAML: {exc.reason}")
    return Problem(file, 1, 1, "", f"invalid YAML: {exc}")


def excess_problem(text: str, file: str) -> Problem | None:
    """Aliases that expand past the bound (a billion laughs), an alias inside its own value, nesting past
    MAX_DEPTH: found from parser events (validate.expansion), so nothing is expanded to find them."""
    found = expansion.excess(text)
    if found is None or not found.parsed:
        return None  # within the bounds, or a syntax error: composing reports it with its place
    return Problem(file, found.line, found.column, "", _EXCESS_WORDS.get(found.kind, found.message))


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Data and positions of a single-document YAML text; all problems raised at once."""
    problem = forbidden_character(text, file)
    if problem is None and expansion.has_alias(text):  # nesting alone is bounded by the builder below
        problem = excess_problem(text, file)
    if problem is not None:
        raise SettingsError([problem])
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise SettingsError([syntax_problem(exc, text, file)]) from None
    builder = _Builder(file, text)
    if node is None:
        return None, builder.map
    try:
        data = builder.build(node, ())
    except _Built as stop:
        builder.problems.append(_problem(file, _pos(stop.node), stop.path, stop.message))
        raise SettingsError(builder.problems) from None
    if builder.problems:
        raise SettingsError(builder.problems)
    return data, builder.map


def read_text_file(path: Path, shown: str) -> str:
    """A YAML file's text, checked (UTF-8, no forbidden characters); a located problem otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{shown}: file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{shown}: is a directory, expected a YAML file") from None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot be read: {exc.strerror}") from None
    try:
        return checked_text(data, shown)
    except TextError as exc:
        raise SettingsError([exc.problem]) from None


def read_yaml_file(path: Path, shown: str, text: str | None = None) -> tuple[Any, SourceMap]:
    """Data and positions of a YAML file; ``text`` stands in for its content when given (an edit not yet saved)."""
    return parse_yaml(read_text_file(path, shown) if text is None else text, shown)
