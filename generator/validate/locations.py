"""Schema locations, kubeconform-compatible: a folder or URL, or a template of one.

A location with ``{{ ... }}`` is a template, filled in per kind (kubeconform's variables).
A location without is a base searched in two layouts: the CRDs catalog's
``<group>/<kind>_<version>.json`` and kubeconform's default
``<v1.X.0>-standalone-strict/<kind>-<group>-<version>.json``; chart values schemas are looked up
under a base as ``charts/<chart>/<version>/values.schema.json``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UsageError

ENV_VAR = "CLUSTERFORGE_SCHEMA_LOCATION"
_VARIABLE = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
KNOWN_VARIABLES = frozenset(
    {"NormalizedKubernetesVersion", "StrictSuffix", "ResourceKind", "ResourceAPIVersion", "KindSuffix", "Group"}
)
CATALOG_LAYOUT = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
STANDALONE_LAYOUT = "{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json"


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


@dataclass(slots=True)
class Location:
    text: str  # as given
    base: str  # folder path (absolute) or URL, without a trailing slash; "" for templates

    @property
    def is_template(self) -> bool:
        return "{{" in self.text

    @property
    def remote(self) -> bool:
        return is_url(self.text)

    def templates(self) -> list[str]:
        """The templates this location is searched with, in order."""
        if self.is_template:
            return [self.text]
        return [f"{self.base}/{CATALOG_LAYOUT}", f"{self.base}/{STANDALONE_LAYOUT}"]

    def chart_schema(self, chart: str, version: str) -> str | None:
        if self.is_template:
            return None
        return f"{self.base}/charts/{chart}/{version}/values.schema.json"


@dataclass(slots=True)
class Kind:
    """A resource type as the location templates see it."""

    group: str
    version: str
    kind: str

    @classmethod
    def parse(cls, api_version: str, kind: str) -> Kind:
        group, _, version = api_version.rpartition("/")
        return cls(group, version, kind)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def kind_suffix(self) -> str:
        """kubeconform's and kubernetes-validate's file suffix: ``-apps-v1``, ``-v1`` for the core group."""
        return f"-{self.group.split('.')[0]}-{self.version}" if self.group else f"-{self.version}"

    def __str__(self) -> str:
        return f"{self.kind} ({self.api_version})"


def expand(template: str, kind: Kind, kubernetes_version: str) -> str:
    values = {
        "NormalizedKubernetesVersion": f"v{kubernetes_version}.0",
        "StrictSuffix": "-strict",
        "ResourceKind": kind.kind.lower(),
        "ResourceAPIVersion": kind.version,
        "KindSuffix": kind.kind_suffix,
        "Group": kind.group,
    }
    return _VARIABLE.sub(lambda m: values[m.group(1)], template)


def parse_location(text: str, cwd: Path | None = None) -> Location:
    text = text.strip()
    if not text:
        raise UsageError("an empty schema location was given")
    unknown = sorted({m.group(1) for m in _VARIABLE.finditer(text)} - KNOWN_VARIABLES)
    if unknown:
        raise UsageError(
            f"schema location {text!r}: unknown template variable(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(KNOWN_VARIABLES))})"
        )
    if "{{" in text:
        if not is_url(text) and not Path(text).is_absolute():
            text = str((cwd or Path.cwd()) / text)
        return Location(text, "")
    if is_url(text):
        return Location(text, text.rstrip("/"))
    folder = (cwd or Path.cwd()) / text
    if not folder.is_dir():
        raise UsageError(f"schema location {text!r}: no such folder")
    return Location(text, str(folder.resolve()))


def bundled_location() -> Location:
    """The CRD schemas clusterforge ships (``task schemas``: ``schemas extract`` of upstream CRDs), catalog layout."""
    from generator.crds import BUNDLED  # noqa: PLC0415 - a path only; kept out of this module's import

    return Location(f"{BUNDLED}/{CATALOG_LAYOUT}", "")


def missing_schema_hint(kind: Kind, kubernetes_version: str) -> str:
    """What to do about a kind no schema was found for."""
    if "." not in kind.group:  # a core API group: there is no CRD to extract a schema from
        return (
            f"Kubernetes {kubernetes_version} does not serve {kind.api_version} (removed, or not yet added?); "
            "`--kubernetes-version` picks another, `--ignore-missing-schemas` lets it pass unchecked"
        )
    return (
        "make one from its CRD with `clusterforge schemas extract CRD.yaml --output DIR` and pass "
        "`--schema-location DIR`, or pass `--ignore-missing-schemas` to let it pass unchecked"
    )


def from_environment(env: dict[str, str] | None = None) -> tuple[str, ...]:
    """The entries of CLUSTERFORGE_SCHEMA_LOCATION: comma-separated (URLs hold colons, so not os.pathsep)."""
    value = (env if env is not None else os.environ).get(ENV_VAR, "")
    return tuple(part.strip() for part in value.split(",") if part.strip())
