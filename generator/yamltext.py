"""The text of a YAML file a person wrote: UTF-8 decoded, checked for characters YAML forbids,
and offsets turned into LINE:COL.

Every parser clusterforge uses (PyYAML for settings, ruamel.yaml for edits, yaml_rs for validate)
reads text, and each fails differently on bytes that are not UTF-8 or on characters YAML does not
allow: PyYAML gives a byte ``position N``, yaml_rs silently cuts a value at a NUL. So the text is
checked here, once, before any of them sees it, and each problem is given where it is.
"""

from __future__ import annotations

import codecs
import re

from generator.errors import Problem

BOM = "\ufeff"

# what YAML forbids (PyYAML's own set: C0 controls but TAB, LF and CR; DEL; C1 controls; U+FFFE and
# U+FFFF), a byte order mark anywhere but at the very start, and the line breaks YAML 1.1 has and
# YAML 1.2 has not (NEL, LS, PS): Kubernetes' go-yaml and PyYAML end a line there, yaml_rs does not,
# so lines would be counted differently. One character class: a search runs at full speed.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff\u2028\u2029]")

_NAMES = {
    "\x00": "NUL",
    "\x1b": "ESC",
    "\x7f": "DEL",
    "\x0b": "vertical tab",
    "\x0c": "form feed",
    "\x85": "next line (NEL)",
    "\u2028": "line separator",
    "\u2029": "paragraph separator",
    "\ufffe": "non-character",
    "\uffff": "non-character",
    BOM: "byte order mark",
}

_BREAKS = "\x85\u2028\u2029"

_OTHER_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


class TextError(ValueError):
    """Text that no YAML parser should see; ``problem`` says where and why."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column (in characters) of the character at ``index``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def line_col_of_byte(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of the byte at ``offset`` of UTF-8 ``data``."""
    start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, len(data[start:offset].decode("utf-8", "replace")) + 1


def decode(data: bytes, file: str) -> str:
    """``data`` as text, a leading byte order mark dropped, CRLF and CR read as LF; TextError at the
    first byte that is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        for bom, name in _OTHER_ENCODINGS:
            if data.startswith(bom):
                raise TextError(Problem(file, 1, 1, "", f"the file is {name} text; save it as UTF-8")) from None
        line, col = line_col_of_byte(data, exc.start)
        byte = data[exc.start]
        raise TextError(
            Problem(file, line, col, "", f"not UTF-8 text: byte 0x{byte:02x} ({exc.reason}); save the file as UTF-8")
        ) from None
    if "\r" in text:  # line ends as Python's text files read them (what the parsers' lines count)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text[1:] if text.startswith(BOM) else text


# the same set among ASCII characters, as a byte table: forbidden bytes become NUL, the rest 0x01;
# translate and find run in C at memory speed, where the regex takes several times longer
_ASCII_FORBIDDEN = bytes(0 if (b < 32 and b not in (9, 10, 13)) or b == 127 else 1 for b in range(256))


def _first_forbidden(text: str) -> int:
    """Index of the first character ``_FORBIDDEN`` matches (a leading BOM excepted), or -1."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_FORBIDDEN).find(0)
    match = _FORBIDDEN.search(text, 1 if text.startswith(BOM) else 0)
    return -1 if match is None else match.start()


def forbidden_character(text: str, file: str) -> Problem | None:
    """The first character YAML does not allow in ``text`` (a leading BOM is allowed), with how many more."""
    index = _first_forbidden(text)
    if index < 0:
        return None
    char = text[index]
    line, col = line_col(text, index)
    name = _NAMES.get(char, "control character")
    more = sum(1 for _ in _FORBIDDEN.finditer(text, index + 1))
    tail = f" ({more} more in the file)" if more else ""
    hint = " (a UTF-16 file? save it as UTF-8)" if char == "\x00" and more > 8 else ""
    why = "ends a line for some YAML parsers and not for others" if char in _BREAKS else "is not allowed in YAML"
    return Problem(file, line, col, "", f"{name} U+{ord(char):04X} {why}; remove it{tail}{hint}")


# Python prints no integer of more than 4300 digits (sys.get_int_max_str_digits), and 3570 hex
# digits make as large a number; a run that long (YAML 1.1's `_` separators included) is the only
# way to write one
_LONG_NUMBER = 3500
_NUMBER_CHARACTERS = "0123456789abcdefABCDEF_"
_HEX_DIGITS = bytes(0x30 if chr(b) in _NUMBER_CHARACTERS else 0x20 for b in range(256))


def may_hold_huge_int(text: str) -> bool:
    """Whether ``text`` has a run of digits long enough to be an integer Python cannot print.

    A fast test for the rare case; only then is the parsed data searched for such an integer.
    """
    data = text.encode("utf-8", "surrogatepass") if not text.isascii() else text.encode("ascii")
    return data.translate(_HEX_DIGITS).find(b"0" * _LONG_NUMBER) >= 0


def huge_int_line(text: str) -> int:
    """The line of the first long run of digits (where ``may_hold_huge_int`` found one), 1-based."""
    match = re.search(f"[0-9a-fA-F_]{{{_LONG_NUMBER}}}", text)
    return line_col(text, match.start())[0] if match else 1


def is_huge_int(value: object) -> bool:
    """An integer too large for Python to print (more than 4300 decimal digits)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value).bit_length() > MAX_INT_BITS


MAX_INT_BITS = 14_000  # a little under 4300 decimal digits
HUGE_INT = "number too large (more than 4000 digits)"


def checked_text(data: bytes, file: str) -> str:
    """Decoded text without characters YAML forbids; TextError otherwise."""
    text = decode(data, file)
    problem = forbidden_character(text, file)
    if problem is not None:
        raise TextError(problem)
    return text
