"""Helm chart values: which chart and version a HelmRelease or ArgoCD Application deploys, its values
checked against ``charts/<chart>/<version>/values.schema.json`` when a schema location has one.

Values are checked as written: chart defaults are not known, so a top-level key the schema
requires (and the chart's defaults usually give) is not reported missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from generator.errors import KeyPath
from generator.validate.documents import YamlError, loads
from generator.validate.model import Finding
from generator.validate.refs_flux import release_namespace
from generator.validate.refs_pods import Providers, app_template_refs
from generator.validate.resources import ARGOCD, FLUX_HELM, FLUX_SOURCE, Inventory, Resource, argo_sources
from generator.validate.schemacheck import violations
from generator.validate.schemas import SchemaStore

APP_TEMPLATE = "app-template"
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


@dataclass(slots=True)
class Chart:
    name: str
    version: str | None  # None when only a range or nothing pins it


@dataclass(slots=True)
class Values:
    """The values one deployment of a chart gets, where they are written, and its namespace."""

    owner: Resource
    chart: Chart
    data: Any
    path: KeyPath  # where the values are in the owner document
    namespace: str
    inline_text: bool = False  # ArgoCD ``helm.values``: a YAML string; findings point at it


def _exact(version: object) -> str | None:
    return version if isinstance(version, str) and _EXACT_VERSION.match(version) else None


def _oci_chart(repository: Resource) -> Chart | None:
    url = repository.get("spec", "url")
    if not isinstance(url, str):
        return None
    name = url.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]
    ref = repository.get("spec", "ref")
    if not isinstance(ref, dict):
        return Chart(name, None)
    return Chart(name, _exact(ref.get("tag")) or _exact(ref.get("semver")))


def release_chart(inventory: Inventory, release: Resource) -> Chart | None:
    ref = release.get("spec", "chartRef")
    if isinstance(ref, dict):
        namespace = str(ref.get("namespace") or release.namespace)
        source = inventory.get(FLUX_SOURCE, str(ref.get("kind", "")), namespace, str(ref.get("name", "")))
        if source is None:
            return None
        if source.kind == "OCIRepository":
            return _oci_chart(source)
        if source.kind == "HelmChart":
            return _named_chart(source.get("spec", "chart"), source.get("spec", "version"))
        return None
    return _named_chart(release.get("spec", "chart", "spec", "chart"), release.get("spec", "chart", "spec", "version"))


def _named_chart(chart: object, version: object) -> Chart | None:
    if not isinstance(chart, str) or not chart:
        return None
    return Chart(chart.rstrip("/").rsplit("/", 1)[-1], _exact(version))


def deployments(inventory: Inventory) -> Iterator[Values]:
    for release in inventory.to_check(FLUX_HELM, "HelmRelease"):
        chart = release_chart(inventory, release)
        values = release.get("spec", "values")
        if chart is not None and values is not None:
            yield Values(release, chart, values, ("spec", "values"), release_namespace(release))
    for application in inventory.to_check(ARGOCD, "Application"):
        namespace = application.get("spec", "destination", "namespace")
        for path, source in argo_sources(application):
            chart = _named_chart(source.get("chart"), source.get("targetRevision"))
            helm = source.get("helm")
            if chart is None or not isinstance(helm, dict):
                continue
            shown_ns = namespace if isinstance(namespace, str) else application.namespace
            if helm.get("valuesObject") is not None:
                yield Values(application, chart, helm["valuesObject"], (*path, "helm", "valuesObject"), shown_ns)
            elif isinstance(helm.get("values"), str):
                try:
                    parsed = loads(helm["values"])
                except YamlError:
                    parsed = None
                if parsed is not None:
                    yield Values(application, chart, parsed, (*path, "helm", "values"), shown_ns, inline_text=True)


def check(inventory: Inventory, store: SchemaStore, providers: Providers) -> Iterator[Finding]:
    for values in deployments(inventory):
        if values.chart.name == APP_TEMPLATE:
            for found in app_template_refs(values.data, values.path):
                ref = (  # inside a YAML string: point at the string
                    replace(found, path=values.path, keys=tuple((values.path, k) for _, k in found.keys))
                    if values.inline_text
                    else found
                )
                yield from providers.check(values.owner, values.namespace, ref)
        if values.chart.version is None:
            continue
        lookup = store.for_chart(values.chart.name, values.chart.version)
        if lookup.broken:
            yield values.owner.finding(values.path, lookup.broken)
        if lookup.validator is None:
            continue
        schema = f"chart {values.chart.name} {values.chart.version} values schema"
        for path, severity, message in violations(lookup.validator, values.data):
            if path == () and message.endswith("is a required property"):
                continue  # the chart's defaults usually give top-level keys
            at = values.path if values.inline_text else (*values.path, *path)
            yield values.owner.finding(at, f"{message} ({schema})", severity, shown=(*values.path, *path))
