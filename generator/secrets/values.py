"""How a Secret's value is made from the secrets file, without holding any value.

A value is literal text and references to secrets-file keys (`DATABASE_URL` is a URL around the
database password). SOPS and SealedSecrets resolve it locally; External Secrets turns it into a
template the operator fills in from the store, so no value is needed on this machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class FromSecret:
    """The value of one key of the secrets file; ``url`` when it goes inside a URL."""

    name: str
    url: bool = False


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
        if len(self.parts) == 1 and isinstance(self.parts[0], FromSecret) and not self.parts[0].url:
            return self.parts[0]
        return None

    def resolve(self, values: Mapping[str, str]) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, FromSecret):
                out.append(quote(values[part.name], safe="") if part.url else values[part.name])
            else:
                out.append(part)
        return "".join(out)

    def template(self) -> str:
        """An External Secrets (Go template) expression of this value."""
        out = []
        for part in self.parts:
            if isinstance(part, FromSecret):
                out.append(f"{{{{ .{part.name} | urlquery }}}}" if part.url else f"{{{{ .{part.name} }}}}")
            else:
                # literal text that looks like a template action must stay literal
                out.append(part.replace("{{", '{{ "{{" }}'))
        return "".join(out)
