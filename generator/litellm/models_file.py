"""Edit the models list in place, keeping every comment, key order and blank line (ruamel.yaml).

ruamel keeps the comments and blank lines that follow an entry on that entry's last key.
So the comment *above* entry i lives on entry i-1, and a plain delete or append would take
the next entry's comment with it, or put a new entry below the file's trailing comments.
The helpers here move those comment tokens the way a person editing the file would.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from generator.errors import Problem, SettingsError
from generator.settings.load import shown_path
from generator.yamlsource import Sources, parse_yaml, read_text_file

Slot = tuple[Any, Any, int]  # (container with a .ca, key or index, position in its comment list)


def _yaml(sequence: int, offset: int) -> YAML:
    """A round-trip YAML that keeps quotes; read() sets the file's own indentation."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=max(sequence - offset, 2), sequence=sequence, offset=offset)
    return yaml


def _tail_slot(seq: CommentedSeq, index: int) -> Slot:
    """Where ruamel keeps what follows item ``index``: its end-of-line comment, blank lines, comments."""
    item = seq[index]
    if isinstance(item, CommentedMap) and len(item) and not item.fa.flow_style():
        return _map_tail(item)
    return (seq, index, 0)


def _map_tail(node: CommentedMap) -> Slot:
    last = list(node.keys())[-1]
    value = node[last]
    if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style():
        return _map_tail(value)
    if isinstance(value, CommentedSeq) and len(value) and not value.fa.flow_style():
        return _tail_slot(value, len(value) - 1)
    return (node, last, 2)


def _get(slot: Slot) -> str:
    container, key, position = slot
    entry = container.ca.items.get(key)
    if not entry or len(entry) <= position or entry[position] is None:
        return ""
    token = entry[position]
    return str(token.value) if isinstance(token, CommentToken) else ""


def _set(slot: Slot, text: str) -> None:
    container, key, position = slot
    entry = container.ca.items.setdefault(key, [None, None, None, None])
    while len(entry) <= position:
        entry.append(None)
    old = entry[position]
    # keep the column of an end-of-line comment, so its alignment survives
    column = old.column if isinstance(old, CommentToken) and text.startswith("#") else 0
    entry[position] = CommentToken(text, CommentMark(column), None) if text else None


def _split(tail: str) -> tuple[str, str]:
    """(the item's own end-of-line comment with its newline, what follows it)."""
    if tail.startswith("#"):
        end = tail.find("\n")
        return (tail, "") if end < 0 else (tail[: end + 1], tail[end + 1 :])
    if tail.startswith("\n"):
        return "\n", tail[1:]
    return "", tail


@dataclass
class ModelsDocument:
    """The YAML file that holds the models list: models.yaml, or cluster.yaml when inline."""

    path: Path
    text: str
    data: CommentedMap
    yaml: YAML

    @classmethod
    def read(cls, path: Path) -> ModelsDocument:
        shown = shown_path(path)
        text = read_text_file(path, shown)
        _, source = parse_yaml(text, shown)  # what configure would refuse is refused here first, at its place
        yaml = _yaml(2, 0)
        try:
            data, sequence, offset = load_yaml_guess_indent(text, yaml=yaml)  # one parse: guess, then keep
        except YAMLError as exc:
            raise SettingsError([_ruamel_problem(exc, shown)]) from None
        if not isinstance(data, CommentedMap) or not isinstance(data.get("models"), CommentedSeq):
            _, pos = Sources(source).locate(("models",), at_key=True)
            where = (pos.line, pos.col) if pos else (1, 1)
            raise SettingsError([Problem(shown, *where, "models", "has no list of models to edit (`models:`)")])
        sequence, offset = sequence or 2, offset or 0
        yaml.indent(mapping=max(sequence - offset, 2), sequence=sequence, offset=offset)
        return cls(path, text, data, yaml)

    @property
    def models(self) -> CommentedSeq:
        seq: CommentedSeq = self.data["models"]  # read() checked the type
        return seq

    def dump(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.data, out)
        return out.getvalue()

    def _separator(self) -> str:
        """A blank line between entries when the file already separates them so."""
        seq = self.models
        if len(seq) >= 2:
            return "\n" if _split(_get(_tail_slot(seq, len(seq) - 2)))[1].startswith("\n") else ""
        return ""

    def append(self, entry: Mapping[str, Any]) -> None:
        seq = self.models
        new = CommentedMap()
        for key, value in entry.items():
            new[key] = _commented(value)
        if not len(seq):
            if seq.fa.flow_style():
                seq.fa.set_block_style()
            seq.append(new)
            return
        separator = self._separator()
        last = _tail_slot(seq, len(seq) - 1)
        own, following = _split(_get(last))
        seq.append(new)
        # what followed the old last entry (the list's trailing comments) now follows the new one
        _set(last, (own or "\n") + separator)
        if following:
            _set(_tail_slot(seq, len(seq) - 1), "\n" + following)

    def remove(self, index: int) -> None:
        """Drop entry ``index`` with the comment above it; the comments below it stay."""
        seq = self.models
        following = _split(_get(_tail_slot(seq, index)))[1]
        if index > 0:
            previous = _tail_slot(seq, index - 1)
            own = _split(_get(previous))[0]
            _set(previous, (own or "\n") + following if following else own)
        elif following.strip() and len(seq) > 1:
            # the comment above the next entry becomes the comment above the list's first entry
            lines = following.lstrip("\n")
            token = CommentToken(lines, CommentMark(0), None)
            seq.ca.comment = [None, [token]]
            self.data.ca.items.setdefault("models", [None, None, None, None])[3] = [token]
        elif index == 0:
            seq.ca.comment = None
            if "models" in self.data.ca.items:
                self.data.ca.items["models"][3] = None
        del seq[index]


def _ruamel_problem(exc: YAMLError, shown: str) -> Problem:
    """Where and what of a ruamel.yaml failure (on YAML PyYAML accepted): the one place they become problems."""
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "cannot be parsed"
        if mark is not None:
            return Problem(shown, mark.line + 1, mark.column + 1, "", f"invalid YAML: {what}")
        return Problem(shown, 1, 1, "", f"invalid YAML: {what}")
    return Problem(shown, 1, 1, "", f"invalid YAML: {exc}")


def _commented(value: Any) -> Any:
    if isinstance(value, Mapping):
        node = CommentedMap()
        for key, inner in value.items():
            node[key] = _commented(inner)
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_commented(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value
