"""How a Secret's value is made from the secrets file, without holding any value.

A value is literal text and references to secrets-file keys (`DATABASE_URL` is a URL around the
database password). SOPS and SealedSecrets resolve it locally; External Secrets turns it into a
template the operator fills in from the store, so no value is needed on this machine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

# characters a YAML stream may not hold even inside a quoted string: they are written as \u escapes
_NOT_YAML_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def json_string(value: str) -> str:
    """``value`` as a JSON string that is also a YAML double-quoted scalar meaning the same text."""
    text = json.dumps(value, ensure_ascii=False)
    return _NOT_YAML_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True)
class FromSecret:
    """The value of one key of the secrets file; ``url`` when it goes inside a URL, ``json`` when it is a
    string of a JSON document (Helm values a Secret gives a chart)."""

    name: str
    url: bool = False
    json: bool = False


Part = str | FromSecret


@dataclass(frozen=True)
class SecretValue:
    parts: tuple[Part, ...]

    @classmethod
    def of(cls, *parts: Part) -> SecretValue:
        return cls(tuple(parts))

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parts if isinstance(p, FromSecret)]

    @property
    def direct(self) -> FromSecret | None:
        """The one secret this value is, verbatim; None when it is composed."""
        part = self.parts[0] if len(self.parts) == 1 else None
        if isinstance(part, FromSecret) and not (part.url or part.json):
            return part
        return None

    def resolve(self, values: Mapping[str, str]) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, FromSecret):
                value = values[part.name]
                out.append(quote(value, safe="") if part.url else json_string(value) if part.json else value)
            else:
                out.append(part)
        return "".join(out)

    def template(self) -> str:
        """An External Secrets (Go template) expression of this value."""
        out = []
        for part in self.parts:
            if isinstance(part, FromSecret):
                encode = " | urlquery" if part.url else " | toJson" if part.json else ""
                out.append(f"{{{{ .{part.name}{encode} }}}}")
            else:
                # literal text that looks like a template action must stay literal
                out.append(part.replace("{{", '{{ "{{" }}'))
        return "".join(out)
