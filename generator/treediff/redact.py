"""Secret values hidden before diffing, found on the parsed YAML; nothing is ever decrypted.

- SOPS: every ``ENC[...]`` value is ``<encrypted>``; the ``sops:`` metadata block (recipients, MAC,
  dates: different after every encryption) is dropped, and a comment says so where it was.
- SealedSecret: ``spec.encryptedData`` values are ``<sealed>``.
- Secret: ``data`` and ``stringData`` values are ``<redacted>``.

The edits are made on the text at the places the YAML node tree gives (PyYAML's composer: exact
character spans, no objects built, tags and aliases harmless), so everything else (comments, order,
quoting, layout) stays as the file has it and a diff's line numbers are the file's own. A file that
does not parse is redacted line by line instead: ``ENC[...]`` tokens, and the lines under
``data:``, ``stringData:`` and ``encryptedData:`` in a file that names a Secret kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

ENCRYPTED = "<encrypted>"
SEALED = "<sealed>"
REDACTED = "<redacted>"
SOPS_DROPPED = "# sops metadata dropped here (recipients, MAC and dates differ with every encryption)"

_ENC_TOKEN = re.compile(r"ENC\[[^\]\s]*\]")
_ENC_VALUE = re.compile(r"ENC\[[^\]]*\]")
# a file without these cannot hold anything redact changes: it is not parsed at all
_TRIGGERS = ("ENC[", "sops", "Secret")
_SECRET_KIND = re.compile(r"""\bkind["']?\s*:\s*["']?(?:Sealed)?Secret\b""")
_SECRET_BLOCK = re.compile(r"""^(\s*-?\s*["']?(?:data|stringData|encryptedData)["']?\s*:)\s*(.*)$""")
_KEY_VALUE = re.compile(r"""^(\s*-?\s*(?:"[^"]*"|'[^']*'|[^\s#'"][^:#]*)\s*:)(?:\s+\S.*)?$""")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Redacted:
    text: str
    problem: str | None = None  # why the YAML did not parse (then redacted line by line)


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    replacement: str


def redact(text: str) -> Redacted:
    if not any(trigger in text for trigger in _TRIGGERS):
        return Redacted(text)
    try:
        edits = list(_edits(text))
    except Exception as error:  # any failure of the parser on any input: fall back to the line rule
        return Redacted(_redact_lines(text), _problem(error))
    return Redacted(_ENC_TOKEN.sub(ENCRYPTED, _apply(text, edits)))


def _problem(error: Exception) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"line {error.problem_mark.line + 1}: {error.problem}"
    return type(error).__name__ if isinstance(error, RecursionError) else str(error).splitlines()[0]


def _edits(text: str) -> Iterator[_Edit]:
    for document in yaml.compose_all(text, Loader=_Loader):
        if document is None:
            continue
        if isinstance(document, yaml.MappingNode):
            sops = _value(document, "sops")
            if isinstance(sops, yaml.MappingNode):
                yield _drop_sops(text, document, sops)
        for node in _nodes(document):
            if isinstance(node, yaml.ScalarNode) and _ENC_VALUE.fullmatch(node.value):
                yield _replace(text, node, ENCRYPTED)
            elif isinstance(node, yaml.MappingNode):
                yield from _kubernetes_secret(text, node)


def _kubernetes_secret(text: str, node: yaml.MappingNode) -> Iterator[_Edit]:
    kind = _value(node, "kind")
    if not isinstance(kind, yaml.ScalarNode):
        return
    if kind.value == "Secret":
        for key in ("data", "stringData"):
            yield from _values(text, _value(node, key), REDACTED)
    elif kind.value == "SealedSecret":
        spec = _value(node, "spec")
        if isinstance(spec, yaml.MappingNode):
            yield from _values(text, _value(spec, "encryptedData"), SEALED)


def _values(text: str, node: yaml.Node | None, replacement: str) -> Iterator[_Edit]:
    """Each value of a mapping; the whole node when it is not one."""
    if node is None:
        return
    values = [value for _key, value in node.value] if isinstance(node, yaml.MappingNode) else [node]
    for value in values:
        encrypted = isinstance(value, yaml.ScalarNode) and _ENC_VALUE.fullmatch(value.value)
        edit = _replace(text, value, ENCRYPTED if encrypted else replacement)
        if edit.end > edit.start:  # an empty value shows nothing
            yield edit


def _value(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value  # type: ignore[no-any-return]
    return None


def _nodes(root: yaml.Node) -> Iterator[yaml.Node]:
    """Every node once, without recursion: aliases share nodes, nesting may be deep."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack += [value, key]
        elif isinstance(node, yaml.SequenceNode):
            stack += reversed(node.value)


def _content_end(text: str, node: yaml.Node) -> int:
    """Where the node's text ends: a block collection's end mark lies past the comments after it,
    a block scalar's past its trailing blank lines."""
    if _ends_itself(node):
        end = int(node.end_mark.index)
    else:
        end = max((int(n.end_mark.index) for n in _nodes(node) if _ends_itself(n)), default=int(node.start_mark.index))
    while end > node.start_mark.index and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _ends_itself(node: yaml.Node) -> bool:
    """A scalar or a flow collection: its end mark is where its text ends."""
    return isinstance(node, yaml.ScalarNode) or bool(getattr(node, "flow_style", False))


def _replace(text: str, node: yaml.Node, replacement: str) -> _Edit:
    return _Edit(int(node.start_mark.index), _content_end(text, node), replacement)


def _drop_sops(text: str, document: yaml.MappingNode, sops: yaml.MappingNode) -> _Edit:
    if sops.flow_style:  # JSON: the value goes, the key stays
        return _replace(text, sops, '"<sops metadata dropped>"')
    key = next(k for k, v in document.value if v is sops)
    column = int(key.start_mark.column)
    start = int(key.start_mark.index) - column
    newline = text.find("\n", _content_end(text, sops))
    end = len(text) if newline < 0 else newline + 1
    return _Edit(start, end, " " * column + SOPS_DROPPED + "\n")


def _apply(text: str, edits: list[_Edit]) -> str:
    """The edits applied; one inside another already made (a value inside the dropped sops block) is skipped."""
    out: list[str] = []
    done = 0
    for edit in sorted(edits, key=lambda e: (e.start, -e.end)):
        if edit.start < done:
            continue
        out += [text[done : edit.start], edit.replacement]
        done = edit.end
    out.append(text[done:])
    return "".join(out)


def _redact_lines(text: str) -> str:
    """The conservative rule for a file that does not parse."""
    text = _ENC_TOKEN.sub(ENCRYPTED, text)
    if not _SECRET_KIND.search(text):
        return text
    out: list[str] = []
    block_indent: int | None = None  # inside the values under data:, stringData: or encryptedData:
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and line.strip() and indent <= block_indent:
            block_indent = None
        shown = line
        if block_indent is not None and line.strip():
            pair = _KEY_VALUE.match(line)
            shown = f"{pair.group(1)} {REDACTED}" if pair else " " * indent + REDACTED
        elif block := _SECRET_BLOCK.match(line):
            inline = block.group(2)
            if inline and not inline.startswith("#"):
                shown = f"{block.group(1)} {REDACTED}"
            else:
                block_indent = indent
        out.append(shown)
    return "\n".join(out)
