"""`clusterforge schemas extract`: what it reads, the JSON schemas it writes, and what it refuses.

The conversion is checked by what the written schemas accept and refuse (as the API server would),
on a CRD written for the tests (tests/fixtures/crds/widgets.example.org.yaml).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from click.testing import CliRunner, Result

from generator.cli import cli
from tests.conftest import FIXTURE_CRDS, run_cli

WIDGETS = FIXTURE_CRDS / "widgets.example.org.yaml"
WIDGETS_TEXT = WIDGETS.read_text()


def extract(cwd: Path, *args: str, stdin: str | None = None) -> Result:
    """`clusterforge schemas extract ARGS` run in ``cwd``, with ``stdin`` as its standard input."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, ["schemas", "extract", *args], input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def widget_v1(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("widgets")
    result = run_cli(out, "schemas", "extract", str(WIDGETS), "--output", "schemas")
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads((out / "schemas" / "example.org" / "widget_v1.json").read_text())
    return loaded


def errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """Where the document breaks the schema: the JSON paths of the errors, each once."""
    validator = jsonschema_rs.validator_for(schema)
    return sorted({"/".join(str(p) for p in e.instance_path) for e in validator.iter_errors(document)})


def widget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.org/v1",
        "kind": "Widget",
        "metadata": {"name": "gear", "labels": {"app": "x"}},
        "spec": {"size": "small", **spec},
    }


def test_a_valid_widget_passes(widget_v1: dict[str, Any]) -> None:
    assert errors(widget_v1, widget(replicas=3, port=80, tags=["a", "b"], labels={"k": "v"})) == []


def test_objects_with_properties_are_closed_the_root_too(widget_v1: dict[str, Any]) -> None:
    assert errors(widget_v1, widget(colour="red")) == ["spec"]
    assert errors(widget_v1, {**widget(), "sepc": {}}) == [""]
    assert errors(widget_v1, widget(config={"limits": {"cpu": "1", "gpu": "2"}})) == ["spec/config/limits"]


def test_preserve_unknown_fields_keeps_its_own_node_open_only(widget_v1: dict[str, Any]) -> None:
    """As the API server prunes: the marked node keeps unknown fields, its declared children do not."""
    assert errors(widget_v1, widget(config={"mode": "fast", "anything": {"goes": [1, 2]}})) == []
    assert errors(widget_v1, widget(config={"mode": 1})) == ["spec/config/mode"]


def test_a_map_takes_any_key_with_values_of_its_schema(widget_v1: dict[str, Any]) -> None:
    assert errors(widget_v1, widget(labels={"any-key": "v", "other": "w"})) == []
    assert errors(widget_v1, widget(labels={"n": 1})) == ["spec/labels/n"]


@pytest.mark.parametrize("field", ["port", "legacyPort", "maxSurge"])
def test_int_or_string_takes_both_in_either_form(widget_v1: dict[str, Any], field: str) -> None:
    assert errors(widget_v1, widget(**{field: 8080})) == []
    assert errors(widget_v1, widget(**{field: "25%"})) == []
    assert errors(widget_v1, widget(**{field: [1]})) == [f"spec/{field}"]
    assert errors(widget_v1, widget(**{field: True})) == [f"spec/{field}"]


def test_an_embedded_resource_needs_api_version_and_kind(widget_v1: dict[str, Any]) -> None:
    assert errors(widget_v1, widget(template={"apiVersion": "v1", "kind": "Pod", "spec": {"x": 1}})) == []
    assert errors(widget_v1, widget(template={"apiVersion": "v1", "metadata": {"name": "p"}})) == ["spec/template"]
    assert errors(widget_v1, widget(template={"apiVersion": "", "kind": "Pod"})) == ["spec/template/apiVersion"]


def test_nulls_where_the_api_server_takes_them(widget_v1: dict[str, Any]) -> None:
    """nullable: true, and optional fields (the server drops their nulls); never a required one."""
    assert errors(widget_v1, widget(note=None, replicas=None, labels={"k": None})) == []
    assert errors(widget_v1, widget(size=None)) == ["spec/size"]
    assert errors(widget_v1, widget(tags=["a", None])) == ["spec/tags/1"]


def test_set_lists_are_unique(widget_v1: dict[str, Any]) -> None:
    assert errors(widget_v1, widget(tags=["a", "a"])) == ["spec/tags"]


def test_api_version_and_kind_are_fixed(widget_v1: dict[str, Any]) -> None:
    assert errors(widget_v1, {**widget(), "kind": "Gadget"}) == ["kind"]
    assert errors(widget_v1, {**widget(), "apiVersion": "example.org/v1beta1"}) == ["apiVersion"]
    missing = widget()
    del missing["kind"]
    assert errors(widget_v1, missing) == [""]


def test_metadata_stays_open_with_its_constraints(widget_v1: dict[str, Any]) -> None:
    assert errors(widget_v1, {**widget(), "metadata": {"name": "g", "annotations": {"a": "b"}}}) == []
    assert errors(widget_v1, {**widget(), "metadata": {"name": "x" * 21}}) == ["metadata/name"]


def test_branches_of_any_of_only_constrain(widget_v1: dict[str, Any]) -> None:
    assert errors(widget_v1, widget(target={"service": "s"})) == []
    assert errors(widget_v1, widget(target={"url": "u", "service": "s"})) == []
    assert errors(widget_v1, widget(target={})) == ["spec/target"]


def test_cel_rules_and_data_are_kept_as_written(widget_v1: dict[str, Any]) -> None:
    crd = yaml.safe_load(WIDGETS_TEXT)
    written = crd["spec"]["versions"][2]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec = widget_v1["properties"]["spec"]
    assert spec["x-kubernetes-validations"] == written["x-kubernetes-validations"]
    example = spec["properties"]["config"]["properties"]["example"]
    assert example["default"] == {"properties": {"kept": "as data"}}  # a default is data, not a schema
    assert spec["properties"]["port"]["x-kubernetes-int-or-string"] is True  # markers stay for CEL


def test_one_file_per_served_version_same_bytes_every_time(tmp_path: Path) -> None:
    first = extract(tmp_path, str(WIDGETS), "--output", "a")
    assert first.exit_code == 0, first.output
    files = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == ["example.org/widget_v1.json", "example.org/widget_v1beta1.json"]  # v1alpha1 is not served
    again = extract(tmp_path, str(WIDGETS), "--output", "b")
    assert again.exit_code == 0
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    rerun = extract(tmp_path, str(WIDGETS), "--output", "a")
    assert "(0 written, 2 unchanged)" in rerun.output


def test_a_kubectl_list_from_standard_input(tmp_path: Path) -> None:
    listed = {"apiVersion": "v1", "kind": "List", "items": [yaml.safe_load(WIDGETS_TEXT)]}
    result = extract(tmp_path, "-", "--output", "out", stdin=yaml.safe_dump(listed))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out/example.org/widget_v1.json").is_file()


def test_a_stream_with_other_objects_takes_the_crds(tmp_path: Path) -> None:
    stream = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: operator\n---\n" + WIDGETS_TEXT
    (tmp_path / "install.yaml").write_text(stream)
    result = extract(tmp_path, "install.yaml", "--output", "out")
    assert result.exit_code == 0, result.output
    assert "install.yaml: 1 object(s) that are not CustomResourceDefinitions passed over" in result.output


def test_a_helm_chart_folder_reads_its_crds_and_skips_template_lines(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "crds").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: widgets\nversion: 1.0.0\n")
    (chart / "templates" / "deployment.yaml").write_text("kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n")
    templated = "{{- if .Values.crds.install }}\n" + WIDGETS_TEXT + "{{- end }}\n"
    templated = templated.replace("  name: widgets.example.org\n", "  name: widgets.example.org\n  {{- with x }}\n")
    (chart / "templates" / "crds.yaml").write_text(templated)
    result = extract(tmp_path, "chart", "--output", "out")
    assert result.exit_code == 0, result.output
    assert "chart/templates/crds.yaml: 3 Helm template line(s) skipped" in result.output
    assert (tmp_path / "out/example.org/widget_v1.json").is_file()


def bad(tmp_path: Path, name: str, text: str, *more: str) -> Result:
    (tmp_path / name).write_text(textwrap.dedent(text))
    result = extract(tmp_path, name, *more, "--output", "out")
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "out").exists()  # nothing written
    return result


def test_a_file_without_a_crd_is_refused(tmp_path: Path) -> None:
    result = bad(tmp_path, "deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
    assert "deployment.yaml:1: holds no CustomResourceDefinition (apiextensions.k8s.io/v1)" in result.output


def test_a_served_version_without_a_schema_is_refused_at_its_line(tmp_path: Path) -> None:
    text = WIDGETS_TEXT.replace("      served: false\n", "      served: true\n")
    result = bad(tmp_path, "widgets.yaml", text)
    line = text.splitlines().index("    - name: v1alpha1") + 1
    assert (
        f"widgets.yaml:{line}: widgets.example.org: served version v1alpha1 has no schema "
        "(schema.openAPIV3Schema): nothing to extract"
    ) in result.output


def test_malformed_yaml_is_refused_at_its_line_with_every_other_problem(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("kind: ConfigMap\n")
    result = bad(tmp_path, "broken.yaml", WIDGETS_TEXT + "---\nkind: [unclosed\n", "empty.yaml")
    line = len(WIDGETS_TEXT.splitlines()) + 3
    assert f"broken.yaml:{line}: invalid YAML" in result.output
    assert "empty.yaml:1: holds no CustomResourceDefinition" in result.output


def test_a_template_expression_inside_a_line_is_refused(tmp_path: Path) -> None:
    text = "{{- if .Values.crds }}\n" + WIDGETS_TEXT.replace("  group: example.org", "  group: {{ .Values.group }}")
    result = bad(tmp_path, "crds.yaml", text)
    line = text.splitlines().index("  group: {{ .Values.group }}") + 1
    assert f"crds.yaml:{line}: a Helm template expression inside a line cannot be read" in result.output


def test_names_that_would_leave_the_output_folder_are_refused(tmp_path: Path) -> None:
    text = WIDGETS_TEXT.replace("  group: example.org", "  group: ../../etc").replace("kind: Widget", "kind: ../x")
    result = bad(tmp_path, "evil.yaml", text)
    assert "spec.group: '../../etc' is not an API group" in result.output
    assert "spec.names.kind: '../x' is not a kind" in result.output


def test_one_kind_and_version_defined_twice_differently_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(WIDGETS_TEXT.replace("maxLength: 20", "maxLength: 30"))
    result = bad(tmp_path, "widgets.yaml", WIDGETS_TEXT, "other.yaml")
    assert "Widget example.org/v1 is defined again, differently from" in result.output


def test_a_v1beta1_crd_with_one_schema_for_its_version(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: apiextensions.k8s.io/v1beta1
            kind: CustomResourceDefinition
            metadata: {name: olds.example.org}
            spec:
              group: example.org
              names: {kind: Old, plural: olds}
              version: v1
              validation:
                openAPIV3Schema:
                  type: object
                  properties:
                    spec: {type: object, properties: {enabled: {type: boolean}}}
            """
        )
    )
    result = extract(tmp_path, "old.yaml", "--output", "out")
    assert result.exit_code == 0, result.output
    schema = json.loads((tmp_path / "out/example.org/old_v1.json").read_text())
    assert errors(schema, {"apiVersion": "example.org/v1", "kind": "Old", "spec": {"enabled": True}}) == []
    assert errors(schema, {"apiVersion": "example.org/v1", "kind": "Old", "spec": {"off": True}}) == ["spec"]


def test_no_input_named_is_a_usage_error(tmp_path: Path) -> None:
    result = extract(tmp_path, "--output", "out")
    assert result.exit_code == 2
    assert "name the CRD files or folders to read" in result.output


def test_the_output_folder_is_a_schema_location_for_validate(tmp_path: Path) -> None:
    assert extract(tmp_path, str(WIDGETS), "--output", "schemas").exit_code == 0
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo/widget.yaml").write_text(yaml.safe_dump(widget(colour="red")))
    result = run_cli(tmp_path / "repo", "validate", ".", "--schema-location", str(tmp_path / "schemas"))
    assert result.exit_code == 1
    assert "widget.yaml:8: Widget/default/gear: spec.colour: unknown field (not in the schema)" in result.output
