"""Read YAML while remembering where every key and value came from.

Settings errors must point at ``file:line:col``; PyYAML's composer gives node marks,
so we build plain Python data from the node tree ourselves and keep the marks by path.
Duplicate keys, which PyYAML silently accepts, are reported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import KeyPath, Problem, SettingsError, UsageError, dotted

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


class _Builder:
    def __init__(self, file: str) -> None:
        self.map = SourceMap(file)
        self.constructor = yaml.constructor.SafeConstructor()
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.map.values[path] = _pos(node)
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)  # resolve `<<` merge keys
            result: dict[str, Any] = {}
            first_seen: dict[str, Pos] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problems.append(_problem(self.map.file, _pos(key_node), path, "keys must be plain strings"))
                    continue
                key = str(key_node.value)
                key_pos = _pos(key_node)
                child = (*path, key)
                if key in first_seen:
                    self.problems.append(
                        _problem(
                            self.map.file,
                            key_pos,
                            child,
                            f"duplicate key (first defined on line {first_seen[key].line})",
                        )
                    )
                    continue
                first_seen[key] = key_pos
                self.map.keys[child] = key_pos
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.map.keys[(*path, index)] = _pos(item)
                items.append(self.build(item, (*path, index)))
            return items
        return self.constructor.construct_object(node, deep=True)


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _problem(file: str, pos: Pos, path: KeyPath, message: str) -> Problem:
    return Problem(file, pos.line, pos.col, dotted(path), message)


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Data and positions of a single-document YAML text; all problems raised at once."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or exc.context or "cannot be parsed"
        raise SettingsError([Problem(file, line, col, "", f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise SettingsError([Problem(file, None, None, "", f"invalid YAML: {exc}")]) from None
    builder = _Builder(file)
    if node is None:
        return None, builder.map
    data = builder.build(node, ())
    if builder.problems:
        raise SettingsError(builder.problems)
    return data, builder.map


def read_yaml_file(path: Path, shown: str, text: str | None = None) -> tuple[Any, SourceMap]:
    """Data and positions of a YAML file; ``text`` stands in for its content when given (an edit not yet saved)."""
    if text is not None:
        return parse_yaml(text, shown)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{shown}: file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{shown}: is a directory, expected a YAML file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{shown}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot be read: {exc.strerror}") from None
    return parse_yaml(text, shown)
