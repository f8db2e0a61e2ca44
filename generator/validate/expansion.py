"""How deep a YAML text nests and how much its aliases add, measured from parser events alone.

kustomize builds every document with its aliases expanded and walks it once per nesting level: a
1 KB billion-laughs document grows kubectl past 5 GB within seconds, and 10,000 levels keep it busy
for 40 s. Parser events cost no memory (an alias is one event, whatever it stands for), so both are
measured before kubectl reads a file; libyaml (PyYAML's C parser) makes the events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_DEPTH = 200  # far deeper than any Kubernetes object (CRD schemas reach about 60); kubectl takes 0.1 s
MAX_ALIASED = 1024 * 1024 * 3 // 2  # what aliases may add: no object past etcd's 1.5 MiB can be stored

# Block nesting takes at least one column per level (two levels when a sequence sits under a key), so
# a text without such indentation and with fewer brackets than this cannot nest past MAX_DEPTH.
_HINT = 90
_DEEP_LINE = re.compile(rf"\n[ \t?-]{{{_HINT}}}")  # a literal first character: fast on large texts
_DEEP_START = re.compile(rf"[ \t?-]{{{_HINT}}}")
_ALIAS_NAME = re.compile(r"\*[^ \t\r\n\[\]{},]")
_TOKEN_START = " \t[{,\n"


def has_alias(text: str) -> bool:
    """Whether ``text`` holds an alias: ``*name`` where a token starts (an unquoted ``*`` can only begin
    an alias in YAML; inside quotes it is taken as one too, which only costs a closer look)."""
    if "*" not in text:
        return False
    return any(m.start() == 0 or text[m.start() - 1] in _TOKEN_START for m in _ALIAS_NAME.finditer(text))


_TOO_DEEP = (
    f"nests deeper than {MAX_DEPTH} levels: deeper than any Kubernetes object, "
    "and kustomize slows down with every level (40 s at 10,000)"
)


DEEP, ALIASED, SELF_ALIAS, SYNTAX = "deep", "aliased", "self-alias", "syntax"


@dataclass(frozen=True)
class Excess:
    line: int  # 1-based, where the bound was passed
    message: str
    parsed: bool = True  # False: the text is not YAML libyaml reads (a syntax error, not an excess)
    kind: str = DEEP  # DEEP, ALIASED, SELF_ALIAS or SYNTAX: callers that word it their own way look here
    column: int = 1  # 1-based


def needs_check(text: str) -> bool:
    """Whether ``text`` could nest past MAX_DEPTH or expand through aliases (cheap: no parsing)."""
    if has_alias(text) or _DEEP_LINE.search(text) is not None or _DEEP_START.match(text) is not None:
        return True
    brackets = 0
    for bracket in "[{":
        found = text.find(bracket)
        while found != -1:
            brackets += 1
            if brackets >= _HINT:
                return True
            found = text.find(bracket, found + 1)
    return False


def excess(text: str) -> Excess | None:
    """Where ``text`` nests past MAX_DEPTH or its aliases add more than MAX_ALIASED, or where it is not
    YAML at all (what cannot be parsed cannot be measured); None when it stays within both bounds."""
    import yaml  # noqa: PLC0415 - only for the few texts needs_check() picks

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    anchored: dict[str, int] = {}  # anchor -> what its node holds, aliases in it expanded
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, size so far) of each collection being read
    aliased = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            size = 0
            if isinstance(event, yaml.CollectionStartEvent):
                if len(open_nodes) >= MAX_DEPTH:
                    return Excess(_line(event), _TOO_DEEP, column=_column(event))
                open_nodes.append((event.anchor, 1))
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                anchor, size = open_nodes.pop()
            elif isinstance(event, yaml.ScalarEvent):
                anchor, size = event.anchor, len(event.value) + 1
            elif isinstance(event, yaml.AliasEvent):
                if any(event.anchor == anchor for anchor, _ in open_nodes):  # kubectl takes ~60 s over one
                    message = f"the alias *{event.anchor} refers to the value that contains it"
                    return Excess(_line(event), message, kind=SELF_ALIAS, column=_column(event))
                anchor, size = None, anchored.get(event.anchor or "", 0)
                aliased += size
                if aliased > MAX_ALIASED:
                    return Excess(
                        _line(event),
                        "its aliases expand to more than 1.5 MiB: kustomize would build all of it in memory, "
                        "and etcd stores no object over 1.5 MiB",
                        kind=ALIASED,
                        column=_column(event),
                    )
            else:
                if isinstance(event, yaml.DocumentStartEvent):
                    anchored.clear()  # anchors belong to their document
                    aliased = 0
                continue
            if anchor:
                anchored[anchor] = size
            if open_nodes:
                parent_anchor, parent_size = open_nodes[-1]
                open_nodes[-1] = (parent_anchor, parent_size + size)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "cannot be parsed"
        if "maximum nesting depth" in problem:  # libyaml's own bound (1,000), past ours
            return Excess(line, _TOO_DEEP)
        return Excess(line, f"invalid YAML: {problem}", parsed=False, kind=SYNTAX)
    except yaml.YAMLError as exc:
        return Excess(1, f"invalid YAML: {exc}", parsed=False, kind=SYNTAX)
    return None


def _line(event: object) -> int:
    mark = getattr(event, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else 1


def _column(event: object) -> int:
    mark = getattr(event, "start_mark", None)
    return int(mark.column) + 1 if mark is not None else 1
