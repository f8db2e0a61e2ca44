"""Seeded mutations of a YAML file, of the kinds a person (or a bad editor, or a bad copy) makes.

Each mutation is a function of (random source, original bytes) -> mutated bytes; ``mutations``
yields a reproducible sequence of them for a seed, cycling through every kind so that a few hundred
mutations cover each kind many times. Used by tests/test_fuzz_inputs.py and benchmarks/fuzz_inputs.py.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Mutator = Callable[[random.Random, bytes], bytes]

_SCALAR = re.compile(rb"^(\s*(?:- )?[A-Za-z_][\w.-]*:[ \t]+)([^#\n]*?)([ \t]*(?:#.*)?)$", re.MULTILINE)
_KEY_LINE = re.compile(rb"^(\s*(?:- )?)([A-Za-z_][\w.-]*):", re.MULTILINE)

# values of other types, as a person would type them where something else belongs
CONFUSIONS = [
    b"[]",
    b"{}",
    b"~",
    b"null",
    b"yes",
    b"no",
    b"on",
    b"1.5",
    b"-1",
    b"0",
    b"0x1F",
    b"0o17",
    b"1_000",
    b".inf",
    b"-.nan",
    b"1e400",
    b"2001-13-45",
    b"2024-01-01",
    b"2024-01-01T25:00:00Z",
    b"12:30:00",
    b"190:20:30",
    b'"quoted"',
    b"'single",
    b'"unterminated',
    b"[a, b",
    b"{a: 1",
    b"- item",
    b"a: b: c",
    b"|",
    b">-",
    b"@reserved",
    b"`backtick",
    b"%percent",
    b"!",
    b"&",
    b"*",
    b"? x",
    b'"\\ud800"',
    b'"\\x00"',
    b'"\\U0010FFFF"',
    b"<<: *nothing",
]

TAGS = [
    b"!custom ",
    b"!!binary ",
    b"!!python/object:os.system ",
    b"!!python/name:os.system ",
    b"!!set ",
    b"!!omap ",
    b"!!pairs ",
    b"!!str ",
    b"!!int ",
    b"!!float ",
    b"!!bool ",
    b"!!null ",
    b"!!timestamp ",
    b"!!map ",
    b"!!seq ",
    b"!<tag:example.com,2024:thing> ",
    b"!e!x ",
    b"! ",
]

UNICODE = [
    "\u00e9",  # é
    "\u0301",  # combining acute
    "\u200b",  # zero width space
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
    "\u0085",  # next line
    "\u00a0",  # no-break space
    "\u3000",  # ideographic space
    "\ufeff",  # byte order mark
    "\ufffd",  # replacement character
    "\uffff",  # a non-character
    "\ufffe",
    "\U0001f600",  # an emoji
    "\U0010ffff",
    "\u4e2d\u6587",
    "\uff1a",  # fullwidth colon
    "\u2013",  # en dash
    "\u201c\u201d",  # curly quotes
]

CONTROL = [bytes([c]) for c in (*range(0, 9), 11, 12, *range(14, 32), 127)] + [
    "\u0080".encode(),
    "\u009f".encode(),
    b"\r",
    b"\t",
    b"\x1b[31m",
]

INVALID_UTF8 = [
    b"\xff",
    b"\xfe",
    b"\xc3",  # a lead byte with no continuation
    b"\x80",  # a lone continuation byte
    b"\xc0\xaf",  # overlong '/'
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\xe2\x82",  # truncated three-byte sequence
    "caf\u00e9".encode("latin-1"),
]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines)


def _pick_line(rng: random.Random, lines: list[bytes]) -> int:
    return rng.randrange(len(lines))


def delete_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    del lines[_pick_line(rng, lines)]
    return _join(lines)


def duplicate_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    index = _pick_line(rng, lines)
    lines.insert(index, lines[index])
    return _join(lines)


def swap_lines(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    a = _pick_line(rng, lines)
    b = min(len(lines) - 1, a + 1) if rng.random() < 0.6 else _pick_line(rng, lines)
    lines[a], lines[b] = lines[b], lines[a]
    return _join(lines)


def move_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    line = lines.pop(_pick_line(rng, lines))
    lines.insert(_pick_line(rng, lines), line)
    return _join(lines)


def reindent(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    index = _pick_line(rng, lines)
    line = lines[index]
    body = line.lstrip(b" \t")
    indent = len(line) - len(body)
    choice = rng.choice(["more", "less", "tab", "odd", "zero"])
    if choice == "more":
        new = indent + rng.choice([1, 2, 4])
    elif choice == "less":
        new = max(0, indent - rng.choice([1, 2]))
    elif choice == "odd":
        new = indent + 1 if indent % 2 == 0 else indent - 1
    else:
        new = 0
    prefix = b"\t" * max(1, new // 2) if choice == "tab" else b" " * new
    lines[index] = prefix + body
    return _join(lines)


def indent_block(rng: random.Random, data: bytes) -> bytes:
    """Shift a run of lines, as a paste into the wrong place does."""
    lines = _lines(data)
    start = _pick_line(rng, lines)
    end = min(len(lines), start + rng.randint(2, 8))
    shift = rng.choice([-2, -1, 1, 2, 4])
    for i in range(start, end):
        line = lines[i]
        body = line.lstrip(b" ")
        indent = max(0, len(line) - len(body) + shift)
        lines[i] = b" " * indent + body
    return _join(lines)


def _insert(rng: random.Random, data: bytes, piece: bytes) -> bytes:
    where = rng.randrange(len(data) + 1)
    return data[:where] + piece + data[where:]


def insert_random_bytes(rng: random.Random, data: bytes) -> bytes:
    return _insert(rng, data, bytes(rng.randrange(256) for _ in range(rng.randint(1, 6))))


def insert_unicode(rng: random.Random, data: bytes) -> bytes:
    return _insert(rng, data, rng.choice(UNICODE).encode())


def insert_control(rng: random.Random, data: bytes) -> bytes:
    return _insert(rng, data, rng.choice(CONTROL))


def insert_nul(rng: random.Random, data: bytes) -> bytes:
    return _insert(rng, data, b"\x00" * rng.randint(1, 3))


def insert_bom(rng: random.Random, data: bytes) -> bytes:
    bom = "\ufeff".encode()
    if rng.random() < 0.4:
        return bom + data
    if rng.random() < 0.5:
        return bom + bom + data
    return _insert(rng, data, bom)


def invalid_utf8(rng: random.Random, data: bytes) -> bytes:
    return _insert(rng, data, rng.choice(INVALID_UTF8))


def latin1(rng: random.Random, data: bytes) -> bytes:
    """The whole file saved in another encoding, as an old editor might."""
    text = data.decode("utf-8", "replace")
    encoding = rng.choice(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"])
    replaced = text.replace("\u2013", "-") if encoding in ("latin-1", "cp1252") else text
    out = replaced.encode(encoding, "replace")
    if encoding in ("latin-1", "cp1252"):
        out = _insert(rng, out, "\u00e9".encode("latin-1"))
    return out


def _scalar_matches(data: bytes) -> list[re.Match[bytes]]:
    return [m for m in _SCALAR.finditer(data) if m.group(2).strip()]


def _replace_value(rng: random.Random, data: bytes, make: Callable[[bytes], bytes]) -> bytes:
    found = _scalar_matches(data)
    if not found:
        return insert_random_bytes(rng, data)
    match = rng.choice(found)
    return data[: match.start(2)] + make(match.group(2)) + data[match.end(2) :]


def type_confusion(rng: random.Random, data: bytes) -> bytes:
    return _replace_value(rng, data, lambda _value: rng.choice(CONFUSIONS))


def add_tag(rng: random.Random, data: bytes) -> bytes:
    return _replace_value(rng, data, lambda value: rng.choice(TAGS) + value)


def huge_number(rng: random.Random, data: bytes) -> bytes:
    digits = rng.choice([4301, 5000, 20000, 100000])
    form = rng.choice(["dec", "neg", "hex", "oct", "float", "under"])
    if form == "hex":
        number = b"0x" + b"f" * digits
    elif form == "oct":
        number = b"0o" + b"7" * digits
    elif form == "float":
        number = b"1" * digits + b".5"
    elif form == "under":
        number = b"_".join([b"999"] * (digits // 3))
    else:
        number = (b"-" if form == "neg" else b"") + b"9" * digits
    return _replace_value(rng, data, lambda _value: number)


def anchor_alias(rng: random.Random, data: bytes) -> bytes:
    """An anchor on one value and an alias to it (or to nothing) on another."""
    found = _scalar_matches(data)
    if len(found) < 2:
        return insert_random_bytes(rng, data)
    first, second = sorted(rng.sample(found, 2), key=lambda m: m.start())
    name = rng.choice([b"a", b"x1", b"long-anchor"])
    style = rng.choice(["ok", "undefined", "before", "merge", "double"])
    if style == "undefined":
        return data[: second.start(2)] + b"*nowhere" + data[second.end(2) :]
    if style == "before":  # the alias comes before its anchor
        return (
            data[: first.start(2)]
            + b"*"
            + name
            + data[first.end(2) : second.start(2)]
            + b"&"
            + name
            + b" "
            + second.group(2)
            + data[second.end(2) :]
        )
    if style == "merge":
        return _merge(data, first, second, name)
    anchored = b"&" + name + b" " + first.group(2)
    if style == "double":
        anchored = b"&" + name + b" &" + name + b" " + first.group(2)
    return (
        data[: first.start(2)] + anchored + data[first.end(2) : second.start(2)] + b"*" + name + data[second.end(2) :]
    )


def _merge(data: bytes, first: re.Match[bytes], second: re.Match[bytes], name: bytes) -> bytes:
    return (
        data[: first.start(2)]
        + b"&"
        + name
        + b" "
        + first.group(2)
        + data[first.end(2) : second.start(2)]
        + b"{<<: *"
        + name
        + b"}"
        + data[second.end(2) :]
    )


def billion_laughs(rng: random.Random, data: bytes) -> bytes:
    """Nested aliases that expand to 10**levels values, put under a key of the file."""
    levels = rng.randint(5, 9)
    parts = [b"l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        refs = b", ".join([b"*l%d" % (level - 1)] * 10)
        parts.append(b"l%d: &l%d [%s]" % (level, level, refs))
    block = b"\n".join(b"  " + p for p in parts)
    found = _KEY_LINE.findall(data)
    if rng.random() < 0.5 or not found:
        return data.rstrip(b"\n") + b"\nlaughs:\n" + block + b"\n"
    match = rng.choice(list(_SCALAR.finditer(data)) or [None])
    if match is None:
        return data + b"\nlaughs:\n" + block + b"\n"
    inner = b"{" + b", ".join(p for p in parts) + b"}"
    return data[: match.start(2)] + inner + data[match.end(2) :]


def recursive_alias(rng: random.Random, data: bytes) -> bytes:
    piece = rng.choice([b"&r [*r]", b"&r {a: *r}", b"&r [1, [2, *r]]"])
    return _replace_value(rng, data, lambda _value: piece)


def deep_nesting(rng: random.Random, data: bytes) -> bytes:
    depth = rng.choice([200, 1500, 10000])
    if rng.random() < 0.5:
        piece = b"[" * depth + b"]" * depth
        return _replace_value(rng, data, lambda _value: piece)
    block = b"".join(b"  " * i + b"k%d:\n" % i for i in range(min(depth, 3000)))
    return data.rstrip(b"\n") + b"\ndeep:\n" + b"\n".join(b"  " + line for line in block.split(b"\n")) + b"v\n"


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def duplicate_key(rng: random.Random, data: bytes) -> bytes:
    """A key written twice in one mapping: a line copied right under itself, value changed."""
    found = list(_SCALAR.finditer(data))
    if not found:
        return duplicate_line(rng, data)
    match = rng.choice(found)
    line = match.group(1).replace(b"- ", b"  ") + rng.choice(CONFUSIONS[:10])
    return data[: match.end()] + b"\n" + line + data[match.end() :]


def syntax_slip(rng: random.Random, data: bytes) -> bytes:
    """The small slips: a lost colon, '=' for ':', a stray quote, a document marker, CRLF."""
    choice = rng.choice(["colon", "equals", "quote", "marker", "end", "crlf", "directive", "comment", "dash"])
    lines = _lines(data)
    index = _pick_line(rng, lines)
    line = lines[index]
    if choice == "colon":
        lines[index] = line.replace(b":", b"", 1)
    elif choice == "equals":
        lines[index] = line.replace(b": ", b" = ", 1)
    elif choice == "quote":
        lines[index] = line + rng.choice([b'"', b"'"])
    elif choice == "marker":
        lines.insert(index, b"---")
    elif choice == "end":
        lines.insert(index, b"...")
    elif choice == "crlf":
        return data.replace(b"\n", b"\r\n")
    elif choice == "directive":
        lines.insert(0, rng.choice([b"%YAML 1.1", b"%YAML 1.3", b"%YAML 2.0", b"%TAG ! tag:x,2024:", b"%FOO bar"]))
        lines.insert(1, b"---")
    elif choice == "comment":
        lines[index] = line.replace(b"#", b"", 1) if b"#" in line else b"#" + line
    else:
        lines[index] = b"- " + line.lstrip()
    return _join(lines)


MUTATORS: dict[str, Mutator] = {
    "delete_line": delete_line,
    "duplicate_line": duplicate_line,
    "swap_lines": swap_lines,
    "move_line": move_line,
    "reindent": reindent,
    "indent_block": indent_block,
    "insert_random_bytes": insert_random_bytes,
    "insert_unicode": insert_unicode,
    "insert_control": insert_control,
    "insert_nul": insert_nul,
    "insert_bom": insert_bom,
    "invalid_utf8": invalid_utf8,
    "other_encoding": latin1,
    "type_confusion": type_confusion,
    "add_tag": add_tag,
    "huge_number": huge_number,
    "anchor_alias": anchor_alias,
    "billion_laughs": billion_laughs,
    "recursive_alias": recursive_alias,
    "deep_nesting": deep_nesting,
    "truncate": truncate,
    "duplicate_key": duplicate_key,
    "syntax_slip": syntax_slip,
}


@dataclass(frozen=True)
class Mutation:
    number: int
    kind: str
    data: bytes


def mutations(original: bytes, count: int, seed: int) -> Iterator[Mutation]:
    """``count`` mutations of ``original``: every kind in turn, one to three edits each, reproducible by seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, nothing secret
    kinds = list(MUTATORS)
    for number in range(count):
        kind = kinds[number % len(kinds)]
        data = MUTATORS[kind](rng, original)
        for _ in range(rng.choice([0, 0, 0, 1, 2])):  # sometimes a second or third slip on top
            data = MUTATORS[rng.choice(kinds)](rng, data)
        yield Mutation(number, kind, data)
