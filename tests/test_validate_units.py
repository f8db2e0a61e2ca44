"""The pieces of validate: YAML streams and lines, schema locations, repository URLs, selectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import UsageError
from generator.validate.documents import parse_stream, split_stream
from generator.validate.locations import Kind, expand, from_environment, parse_location
from generator.validate.repo import clean_path, normalize_url
from generator.validate.selectors import matches


def parts(text: str) -> list[tuple[str, int]]:
    return [(text[start:end], line) for start, end, line in split_stream(text)]


def test_stream_is_cut_at_document_markers_only() -> None:
    text = "# head\n---\na: |\n  ---x\n  --- inside a block\n----\n--- \nb: 1\n...\n---\nc: 2\n"
    assert parts(text) == [
        ("# head\n", 1),
        ("---\na: |\n  ---x\n  --- inside a block\n----\n", 2),
        ("--- \nb: 1\n...\n", 7),
        ("---\nc: 2\n", 10),
    ]


def test_documents_keep_their_lines_and_paths(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    lines = ["\ufeff# c", "---", "kind: A", "spec:", "  items:", "    - name: x", "      value: 1"]
    lines += ["---", "---", "kind: B"]
    file.write_bytes("\r\n".join([*lines, ""]).encode())
    documents, errors = parse_stream(file, "s.yaml")
    assert errors == []
    assert [d.data for d in documents] == [{"kind": "A", "spec": {"items": [{"name": "x", "value": 1}]}}, {"kind": "B"}]
    first = documents[0].source
    assert first.line_of(()) == 3
    assert first.line_of(("spec", "items", 0, "value")) == 7
    assert first.line_of(("spec", "nothing", "here")) == 4  # the nearest ancestor that exists
    assert documents[1].source.line_of(()) == 10


def test_merge_keys_are_applied(tmp_path: Path) -> None:
    file = tmp_path / "m.yaml"
    file.write_text("base: &base {a: 1, b: 2}\nthing:\n  <<: *base\n  b: 3\n")
    documents, _ = parse_stream(file, "m.yaml")
    assert documents[0].data["thing"] == {"a": 1, "b": 3}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("---\na: 1\n---\nb:\n  c: 1\n  d: [1\n", 6, "invalid YAML: unclosed bracket '['"),
        ("a: 1\n---\nx:\n  y: 1\n  y: 2\n", 5, "duplicate key 'y' (first on line 4)"),
        ("a:\n\t- b\n", 2, "invalid YAML: tabs disallowed within this context (block indentation)"),
    ],
)
def test_parse_errors_point_at_their_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    file = tmp_path / "e.yaml"
    file.write_text(text)
    _, errors = parse_stream(file, "e.yaml")
    assert [(e.line, e.message) for e in errors] == [(line, message)]


def test_templates_are_filled_in_as_kubeconform_does() -> None:
    deployment = Kind.parse("apps/v1", "Deployment")
    service = Kind.parse("v1", "Service")
    template = "{{ .NormalizedKubernetesVersion }}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json"
    assert expand(template, deployment, "1.32") == "v1.32.0-standalone-strict/deployment-apps-v1.json"
    assert expand(template, service, "1.32") == "v1.32.0-standalone-strict/service-v1.json"
    catalog = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    kind = Kind.parse("helm.toolkit.fluxcd.io/v2", "HelmRelease")
    assert expand(catalog, kind, "1.32") == "helm.toolkit.fluxcd.io/helmrelease_v2.json"


def test_locations(tmp_path: Path) -> None:
    folder = parse_location(str(tmp_path))
    assert folder.templates()[0] == f"{tmp_path}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json"
    assert folder.chart_schema("app-template", "4.1.1") == f"{tmp_path}/charts/app-template/4.1.1/values.schema.json"
    url = parse_location("https://example.org/schemas/")
    assert url.chart_schema("x", "1.0.0") == "https://example.org/schemas/charts/x/1.0.0/values.schema.json"
    template = parse_location("https://example.org/{{.Group}}/{{.ResourceKind}}.json")
    assert template.templates() == ["https://example.org/{{.Group}}/{{.ResourceKind}}.json"]
    assert template.chart_schema("x", "1.0.0") is None
    with pytest.raises(UsageError):
        parse_location(str(tmp_path / "absent"))


def test_environment_entries_are_comma_separated() -> None:
    value = " /a/crds , https://x/{{.Group}}/{{.ResourceKind}}.json,,/b "
    assert from_environment({"CLUSTERFORGE_SCHEMA_LOCATION": value}) == (
        "/a/crds",
        "https://x/{{.Group}}/{{.ResourceKind}}.json",
        "/b",
    )
    assert from_environment({}) == ()


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/example/fleet.git",
        "https://github.com/example/fleet/",
        "git@github.com:example/fleet.git",
        "ssh://git@github.com/example/fleet",
        "ssh://git@github.com:22/example/fleet.git",
        "HTTPS://GitHub.com/Example/Fleet",
    ],
)
def test_repository_urls_compare_alike(url: str) -> None:
    assert normalize_url(url) == "github.com/example/fleet"


def test_repository_paths() -> None:
    assert clean_path("./apps/web/") == "apps/web"
    assert clean_path("apps//web/../db") == "apps/db"
    assert clean_path("./") == ""


def test_label_selectors() -> None:
    labels = {"app": "web", "tier": "front"}
    assert matches({"matchLabels": {"app": "web"}}, labels)
    assert not matches({"matchLabels": {"app": "db"}}, labels)
    assert matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "x"]}]}, labels)
    assert not matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, labels)
    assert matches({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, labels)
    assert not matches({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, labels)
    assert matches({}, labels)


def test_standalone_core_schemas_are_what_kubeconform_reads(tmp_path: Path) -> None:
    """The engine points kubeconform at this cache: one self-contained file per core kind, its layout."""
    import jsonschema_rs

    from generator.validate.schemas import CoreSchemas

    core = CoreSchemas("1.32", tmp_path)
    kind = Kind.parse("apps/v1", "Deployment")
    assert core.schema_text(kind) is not None
    target = Path(expand(core.cache_template, kind, "1.32"))
    assert target == core.cache_folder / "v1.32.0-standalone-strict" / "deployment-apps-v1.json"
    text = target.read_text()
    assert "_definitions.json" not in text  # nothing to fetch
    validator = jsonschema_rs.validator_for(text)
    assert validator.is_valid({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}})
    assert not validator.is_valid({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": "two"}})
    assert core.schema_text(Kind.parse("helm.toolkit.fluxcd.io/v2", "HelmRelease")) is None


def test_kubeconform_arguments_and_report(tmp_path: Path) -> None:
    from generator.validate.documents import Source
    from generator.validate.kubeconform import arguments, read_report
    from generator.validate.resources import Resource
    from generator.validate.schemas import CoreSchemas

    core = CoreSchemas("1.32", tmp_path / "cache")
    args = arguments(core, [parse_location(str(tmp_path))], "1.32")
    assert args[:7] == [
        "-output",
        "json",
        "-strict",
        "-kubernetes-version",
        "1.32.0",
        "-schema-location",
        core.cache_template,
    ]
    assert args[7:] == [
        "-schema-location",
        f"{tmp_path}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
        "-schema-location",
        f"{tmp_path}/{{{{.NormalizedKubernetesVersion}}}}-standalone{{{{.StrictSuffix}}}}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json",
    ]
    data = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}},
    }
    deployment = Resource("apps", "Deployment", "web", "apps", data, Source("/x", "x", 0, 0, 1), "x", "/x")
    report = {
        "resources": [
            {
                "filename": "/tmp/k/0.yaml",
                "kind": "Deployment",
                "status": "statusInvalid",
                "msg": "",
                "validationErrors": [{"path": "/spec/template/spec/containers/0/image", "msg": "missing"}],
            },
            {
                "filename": "/tmp/k/1.yaml",
                "kind": "Widget",
                "status": "statusError",
                "msg": "could not find schema for Widget",
            },
            {"filename": "/tmp/k/0.yaml", "kind": "Deployment", "status": "statusInvalid", "msg": "old style message"},
        ]
    }
    widget = Resource("example.org", "Widget", "w", "apps", {"apiVersion": "example.org/v1"}, None, "w", None)
    assert list(read_report(report, [deployment, widget])) == [
        (deployment, ("spec", "template", "spec", "containers", 0, "image"), "missing"),
        (widget, None, "could not find schema for Widget"),
        (deployment, (), "old style message"),
    ]


def test_kubeconform_070_details_are_read_from_its_message() -> None:
    """kubeconform 0.7.0 puts only the outermost failure in validationErrors; the details are in msg."""
    from generator.validate.documents import Source
    from generator.validate.kubeconform import read_report
    from generator.validate.resources import Resource

    data = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"containers": [{}]}}}}
    deployment = Resource("apps", "Deployment", "web", "apps", data, Source("/x", "x", 0, 0, 1), "x", "/x")
    message = (  # as kubeconform 0.7.0 printed it for a Deployment with three defects
        "problem validating schema. Check JSON formatting: jsonschema validation failed with "
        "'file:///c/v1.32.0-standalone-strict/deployment-apps-v1.json#' - at '/spec': validation failed"
        "   - at '/spec/replicas': got string, want null or integer"
        "   - at '/spec/template/spec/containers/0/image': got number, want null or string"
        "   - at '/spec': additional properties 'bogus' not allowed"
    )
    report = {
        "resources": [
            {
                "filename": "/tmp/k/0.yaml",
                "status": "statusInvalid",
                "msg": message,
                "validationErrors": [{"path": "/spec", "msg": "validation failed"}],
            }
        ]
    }
    assert list(read_report(report, [deployment])) == [
        (deployment, ("spec", "replicas"), "got string, want null or integer"),
        (deployment, ("spec", "template", "spec", "containers", 0, "image"), "got number, want null or string"),
        (deployment, ("spec",), "additional properties 'bogus' not allowed"),
    ]


def test_go_case_insensitive_patterns_become_ecma() -> None:
    """CRD schemas carry Go patterns such as ^(?i)(abort|warn)?$ (the Prometheus operator's)."""
    import re

    from generator.validate.schemas import _case_insensitive

    cases = [
        ("^(?i)(abort|warn)?$", ["ABORT", "warn", "Warn", ""], ["x", "abortx"]),
        ("(?i)^[a-z]+\\d$", ["aB1", "Z9"], ["_1", "[1", "a"]),
        ("^(?i)[^a-c]x$", ["dX", "Dx"], ["ax", "Bx"]),
    ]
    for pattern, hits, misses in cases:
        ecma = _case_insensitive(pattern)
        assert "(?i)" not in ecma
        assert all(re.fullmatch(ecma, m) for m in hits), (pattern, ecma)
        assert not any(re.fullmatch(ecma, m) for m in misses), (pattern, ecma)
