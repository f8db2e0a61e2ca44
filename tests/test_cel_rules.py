"""CEL rules on objects, with the API server's create semantics, on small CRD-style schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.cel.schema import escape, parse_field_path
from generator.cel.validator import Outcome, SchemaRules
from generator.errors import dotted
from tests.conftest import run_cli


def _schema(spec: dict[str, Any], **root: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
        },
        **root,
    }


def _obj(spec: Any, name: str = "demo") -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name, "labels": {"a": "b"}},
        "spec": spec,
    }


def _failures(schema: dict[str, Any], data: Any) -> list[tuple[str, str]]:
    rules = SchemaRules(schema)
    assert rules.problems == []
    return [(dotted(f.path), f.message) for f in rules.check(data)]


def _rule(rule: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"rule": rule, "message": extra.pop("message", "failed"), **extra}]


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("namespace", "__namespace__"),
        ("in", "__in__"),
        ("a.b", "a__dot__b"),
        ("a-b", "a__dash__b"),
        ("a/b", "a__slash__b"),
        ("__a", "__underscores__a"),
        ("a__b", "a__underscores__b"),
        ("plain_name", "plain_name"),
        ("1a", None),
        ("a:b", None),
        ("", None),
    ],
)
def test_property_names_are_escaped_as_the_api_server_does(name: str, escaped: str | None) -> None:
    assert escape(name) == escaped


def test_escaped_names_reach_their_values() -> None:
    spec = {
        "type": "object",
        "properties": {"namespace": {"type": "string"}, "x-y": {"type": "string"}},
        "x-kubernetes-validations": _rule("self.__namespace__ == self.x__dash__y"),
    }
    assert _failures(_schema(spec), _obj({"namespace": "a", "x-y": "a"})) == []
    assert _failures(_schema(spec), _obj({"namespace": "a", "x-y": "b"})) == [("spec", "failed")]


def test_defaults_apply_before_the_rules() -> None:
    spec = {
        "type": "object",
        "properties": {"mode": {"type": "string", "default": "Fast"}, "level": {"type": "integer"}},
        "x-kubernetes-validations": _rule("self.mode == 'Fast' ? self.level < 3 : true", message="too high"),
    }
    assert _failures(_schema(spec), _obj({"level": 5})) == [("spec", "too high")]
    assert _failures(_schema(spec), _obj({"mode": "Slow", "level": 5})) == []


def test_a_defaulted_object_is_checked_too() -> None:
    spec = {
        "type": "object",
        "properties": {
            "limits": {
                "type": "object",
                "default": {"max": 1, "min": 2},
                "properties": {"max": {"type": "integer"}, "min": {"type": "integer"}},
                "x-kubernetes-validations": _rule("self.min <= self.max", message="min above max"),
            }
        },
    }
    assert _failures(_schema(spec), _obj({})) == [("spec", "min above max")]


def test_transition_rules_do_not_apply_on_create() -> None:
    spec = {
        "type": "object",
        "properties": {"name": {"type": "string", "x-kubernetes-validations": _rule("self == oldSelf")}},
        "x-kubernetes-validations": _rule("oldSelf.name == self.name && false", message="would always fail"),
    }
    rules = SchemaRules(_schema(spec))
    assert rules.count == 2
    assert rules.check(_obj({"name": "a"})) == []


def test_optional_old_self_rules_run_on_create_without_old_self() -> None:
    spec = {
        "type": "object",
        "properties": {"tier": {"type": "string"}},
        "x-kubernetes-validations": [
            {
                "rule": "oldSelf.hasValue() || self.tier == 'free'",
                "optionalOldSelf": True,
                "message": "new objects start on the free tier",
            }
        ],
    }
    assert _failures(_schema(spec), _obj({"tier": "gold"})) == [("spec", "new objects start on the free tier")]
    assert _failures(_schema(spec), _obj({"tier": "free"})) == []


def test_rules_under_items_and_values_apply_to_each_element() -> None:
    spec = {
        "type": "object",
        "properties": {
            "ports": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"port": {"type": "integer"}},
                    "x-kubernetes-validations": _rule("self.port > 1024", message="privileged port"),
                },
            },
            "weights": {
                "type": "object",
                "additionalProperties": {"type": "integer", "x-kubernetes-validations": _rule("self <= 100")},
            },
        },
    }
    data = _obj({"ports": [{"port": 8080}, {"port": 80}], "weights": {"a": 50, "b.c": 150}})
    assert _failures(_schema(spec), data) == [("spec.ports[1]", "privileged port"), ("spec.weights.b.c", "failed")]


def test_null_values_are_not_checked() -> None:
    spec = {
        "type": "object",
        "properties": {"x": {"type": "string", "nullable": True, "x-kubernetes-validations": _rule("self != ''")}},
    }
    assert _failures(_schema(spec), _obj({"x": None})) == []
    assert _failures(_schema(spec), _obj({"x": ""})) == [("spec.x", "failed")]


def test_message_expression_field_path_and_reason() -> None:
    spec = {
        "type": "object",
        "properties": {
            "replicas": {"type": "integer"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "x-kubernetes-validations": [
            {
                "rule": "self.replicas <= 5",
                "messageExpression": "'replicas is ' + string(self.replicas) + ', at most 5'",
                "fieldPath": ".replicas",
            },
            {
                "rule": "'team' in self.labels",
                "message": "a team label",
                "fieldPath": ".labels['team']",
                "reason": "FieldValueRequired",
            },
            {"rule": "self.replicas != 7", "messageExpression": "''", "message": "seven is out"},
            {"rule": "self.replicas > 0"},
        ],
    }
    data = _obj({"replicas": 7, "labels": {}})
    assert _failures(_schema(spec), data) == [
        ("spec.replicas", "replicas is 7, at most 5"),
        ("spec.labels.team", "Required value: a team label"),
        ("spec", "seven is out"),
    ]
    assert _failures(_schema(spec), _obj({"replicas": 0, "labels": {"team": "a"}})) == [
        ("spec", "failed rule: self.replicas > 0")
    ]


def test_a_rule_that_errors_is_a_failure_naming_the_error() -> None:
    spec = {
        "type": "object",
        "properties": {"mode": {"type": "string"}, "level": {"type": "integer"}},
        "x-kubernetes-validations": _rule("self.level > 1", message="level above 1"),
    }
    assert _failures(_schema(spec), _obj({"mode": "x"})) == [
        ("spec", "no such key: level evaluating rule: level above 1")
    ]


def test_many_objects_of_one_schema_give_the_same_findings() -> None:
    """From the 16th object on, an object is first checked in one go (generator.cel.whole)."""
    spec = {
        "type": "object",
        "properties": {
            "ports": {"type": "array", "items": {"type": "integer", "x-kubernetes-validations": _rule("self > 0")}}
        },
        "x-kubernetes-validations": _rule("size(self.ports) < 3", message="too many ports"),
    }
    rules = SchemaRules(_schema(spec))
    bad, good = _obj({"ports": [1, 0, 2]}), _obj({"ports": [1]})
    seen = [[(dotted(f.path), f.message) for f in rules.check(data)] for _ in range(20) for data in (bad, good)]
    assert rules.whole is not None
    assert seen == [[("spec", "too many ports"), ("spec.ports[1]", "failed")], []] * 20


def test_rules_in_all_of_parts_apply_to_the_same_value() -> None:
    spec = {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "allOf": [{"x-kubernetes-validations": _rule("self.a < 10", message="a below 10")}],
    }
    assert _failures(_schema(spec), _obj({"a": 12})) == [("spec", "a below 10")]


def test_at_the_root_only_name_and_generate_name_of_metadata_are_visible() -> None:
    schema = _schema({"type": "object"}, **{"x-kubernetes-validations": _rule("self.metadata.name.startsWith('app-')")})
    assert _failures(schema, _obj({}, name="app-web")) == []
    assert _failures(schema, _obj({}, name="web")) == [("", "failed")]
    hidden = _schema({"type": "object"}, **{"x-kubernetes-validations": _rule("has(self.metadata.labels)")})
    assert _failures(hidden, _obj({})) == [("", "failed")]


def test_formats_are_typed_as_the_api_server_types_them() -> None:
    spec = {
        "type": "object",
        "properties": {
            "start": {"type": "string", "format": "date-time"},
            "every": {"type": "string", "format": "duration"},
            "size": {"type": "number"},
            "port": {"x-kubernetes-int-or-string": True},
        },
        "x-kubernetes-validations": [
            {"rule": "self.start < timestamp('2030-01-01T00:00:00Z')", "message": "too late"},
            {"rule": "self.every >= duration('1m')", "message": "too often"},
            {"rule": "type(self.size) == double", "message": "a double"},
            {"rule": "type(self.port) == string ? self.port.startsWith('http') : self.port > 1024", "message": "port"},
        ],
    }
    good = _obj({"start": "2026-01-01T00:00:00Z", "every": "1h30m", "size": 3, "port": "https"})
    assert _failures(_schema(spec), good) == []
    bad = _obj({"start": "2031-01-01T00:00:00Z", "every": "30s", "size": 3, "port": 80})
    assert [message for _, message in _failures(_schema(spec), bad)] == ["too late", "too often", "port"]


def test_values_flux_substitutes_later_are_not_judged() -> None:
    spec = {
        "type": "object",
        "properties": {"path": {"type": "string", "x-kubernetes-validations": _rule("self.startsWith('/')")}},
    }
    assert _failures(_schema(spec), _obj({"path": "${APP_PATH}"})) == []
    assert _failures(_schema(spec), _obj({"path": "app"})) == [("spec.path", "failed")]


def test_values_sops_encrypted_are_judged_after_decryption() -> None:
    spec = {
        "type": "object",
        "properties": {"token": {"type": "string", "x-kubernetes-validations": _rule("self.startsWith('tok-')")}},
    }
    data = _obj({"token": "ENC[AES256_GCM,data:Tm90IGEgdG9rZW4=,iv:aXY=,tag:dGFn,type:str]"})
    assert SchemaRules(_schema(spec)).check(data, encrypted=True) == []
    assert [f.message for f in SchemaRules(_schema(spec)).check(data)] == ["failed"]


def test_a_hostile_nesting_is_refused_not_crashed_on() -> None:
    spec = {
        "type": "object",
        "properties": {"extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        "x-kubernetes-validations": _rule("self.extra != {}"),
    }
    nested: Any = "leaf"
    for _ in range(5000):
        nested = {"a": nested}
    found = SchemaRules(_schema(spec)).check(_obj({"extra": nested}))
    assert [(f.outcome, f.message) for f in found] == [
        (Outcome.NOT_CHECKED, "CEL rules not evaluated: the object is nested too deeply")
    ]


def test_a_rule_over_its_cost_limit_is_not_run_and_says_so() -> None:
    spec = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "string"}}},
        "x-kubernetes-validations": _rule("self.items.all(a, self.items.exists_one(b, a == b))", message="unique"),
    }
    rules = SchemaRules(_schema(spec))
    small = rules.check(_obj({"items": [str(i) for i in range(50)]}))
    assert small == []
    found = rules.check(_obj({"items": [str(i) for i in range(5000)]}))
    assert len(found) == 1
    assert found[0].outcome is Outcome.NOT_CHECKED
    assert "over its limit per rule (1,000,000 per rule" in found[0].message


def test_the_object_budget_stops_later_rules() -> None:
    spec = {
        "type": "object",
        "properties": {
            "groups": {
                "type": "array",
                "items": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-validations": _rule("self.all(a, self.exists_one(b, a == b))"),
                },
            }
        },
    }
    group = [f"member-{i:03}" for i in range(99)]  # each group's rule can cost about 100,000
    found = SchemaRules(_schema(spec)).check(_obj({"groups": [group] * 120}))
    assert [f.outcome for f in found] == [Outcome.NOT_CHECKED]  # one warning, then no further rules
    stopped_at = found[0].path
    assert stopped_at[:2] == ("spec", "groups") and 0 < int(stopped_at[2]) < 119  # the first groups ran
    assert "what is left of the object's budget" in found[0].message


def test_the_engine_stop_at_ten_thousand_steps_is_reported() -> None:
    spec = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "integer"}}},
        "x-kubernetes-validations": _rule("self.items.all(i, i >= 0)"),
    }
    found = SchemaRules(_schema(spec)).check(_obj({"items": list(range(12_000))}))
    assert [(f.outcome, f.message.split(":")[0]) for f in found] == [(Outcome.NOT_CHECKED, "not evaluated")]
    assert "10,000 list steps" in found[0].message


def test_rules_that_cannot_be_evaluated_are_problems() -> None:
    spec = {
        "type": "object",
        "x-kubernetes-validations": [
            {"rule": "self.notAFunction()"},
            {"rule": "self.a == "},
            {"rule": "has(self.a)", "messageExpression": "1 +"},
        ],
    }
    rules = SchemaRules(_schema(spec))
    assert rules.count == 3
    assert [str(p).split(":")[0] for p in rules.problems] == [
        "/properties/spec/x-kubernetes-validations/0",
        "/properties/spec/x-kubernetes-validations/1",
        "/properties/spec/x-kubernetes-validations/2",
    ]
    assert "undeclared reference to 'notAFunction'" in str(rules.problems[0])


@pytest.mark.parametrize(
    ("text", "path"),
    [(".spec.foo", ("spec", "foo")), (".labels['a.b/c']", ("labels", "a.b/c")), ("['x'].y", ("x", "y")), ("x", ())],
)
def test_field_paths(text: str, path: tuple[str, ...]) -> None:
    assert parse_field_path(text) == path


WIDGET_CRD = _schema(
    {
        "type": "object",
        "required": ["size"],
        "properties": {"size": {"type": "integer", "maximum": 100}, "mode": {"type": "string", "enum": ["a", "b"]}},
        "x-kubernetes-validations": [
            {"rule": "self.size % 2 == 0", "message": "size must be even"},
            {"rule": "self.undefinedFunction()", "message": "never"},
        ],
    },
    **{"x-kubernetes-validations": _rule("self.metadata.name != 'forbidden'", message="that name is taken")},
)


def _widget_repo(tmp_path: Path, spec: str) -> Path:
    schemas = tmp_path / "schemas" / "example.com"
    schemas.mkdir(parents=True)
    (schemas / "widget_v1.json").write_text(json.dumps(WIDGET_CRD))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "widget.yaml").write_text(
        f"apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: forbidden\n  namespace: apps\nspec:\n{spec}"
    )
    return tmp_path


def test_validate_reports_rules_with_their_text_and_problems_as_warnings(tmp_path: Path) -> None:
    root = _widget_repo(tmp_path, "  size: 3\n")
    result = run_cli(root, "validate", "tree", "--schema-location", "schemas", "--repo-root", str(root))
    lines = result.output.splitlines()
    assert result.exit_code == 1
    assert (
        "tree/widget.yaml:1: Widget/apps/forbidden: that name is taken (rule: self.metadata.name != 'forbidden')"
        in lines
    )
    assert "tree/widget.yaml:6: Widget/apps/forbidden: spec: size must be even (rule: self.size % 2 == 0)" in lines
    warning = next(line for line in lines if "CEL rule not evaluated" in line)
    assert "schemas/example.com/widget_v1.json at /properties/spec/x-kubernetes-validations/1" in warning
    assert "undeclared reference to 'undefinedFunction'" in warning
    assert lines[-1].startswith("2 errors, 1 warning")


def test_skip_cel_and_strict(tmp_path: Path) -> None:
    root = _widget_repo(tmp_path, "  size: 4\n")
    (root / "tree" / "widget.yaml").write_text((root / "tree" / "widget.yaml").read_text().replace("forbidden", "ok"))
    args = ("validate", "tree", "--schema-location", "schemas", "--repo-root", str(root))
    lenient = run_cli(root, *args)
    assert lenient.exit_code == 0, lenient.output
    assert "1 warning" in lenient.output
    assert run_cli(root, *args, "--strict").exit_code == 1  # the rule that cannot be evaluated fails --strict
    skipped = run_cli(root, *args, "--skip-cel", "--strict")
    assert skipped.exit_code == 0, skipped.output
    assert "CEL" not in skipped.output


def test_json_output_carries_the_rule(tmp_path: Path) -> None:
    root = _widget_repo(tmp_path, "  size: 3\n")
    result = run_cli(
        root, "validate", "tree", "--schema-location", "schemas", "--repo-root", str(root), "--output", "json"
    )
    findings = json.loads(result.output)["findings"]
    even = next(f for f in findings if f["message"] == "spec: size must be even")
    assert even["rule"] == "self.size % 2 == 0"
    assert even["line"] == 6


def test_rules_wait_for_the_schema_check_that_would_block_them(tmp_path: Path) -> None:
    root = _widget_repo(tmp_path, "  size: three\n")
    result = run_cli(root, "validate", "tree", "--schema-location", "schemas", "--repo-root", str(root))
    assert "size must be even" not in result.output  # a wrong type: the API server reports only that
    assert "spec.size" in result.output
    over = _widget_repo(tmp_path / "other", "  size: 101\n")
    result = run_cli(over, "validate", "tree", "--schema-location", "schemas", "--repo-root", str(over))
    assert "size must be even" in result.output  # a maximum violation does not block the rules


def test_schemas_check_lists_every_rule_with_its_status(tmp_path: Path) -> None:
    folder = tmp_path / "schemas" / "example.com"
    folder.mkdir(parents=True)
    (folder / "widget_v1.json").write_text(json.dumps(WIDGET_CRD))
    spec = {
        "type": "object",
        "properties": {"a": {"type": "string", "x-kubernetes-validations": _rule("self == oldSelf")}},
    }
    (folder / "gadget_v1.json").write_text(json.dumps(_schema(spec)))
    result = run_cli(tmp_path, "schemas", "check", "schemas")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "example.com/gadget_v1.json /properties/spec/properties/a/x-kubernetes-validations/0: on update only: "
        "self == oldSelf",
        "example.com/widget_v1.json /x-kubernetes-validations/0: ok: self.metadata.name != 'forbidden'",
        "example.com/widget_v1.json /properties/spec/x-kubernetes-validations/0: ok: self.size % 2 == 0",
        "example.com/widget_v1.json /properties/spec/x-kubernetes-validations/1: cannot be evaluated: "
        "undeclared reference to 'undefinedFunction' (line 1, column 23): self.undefinedFunction()",
        "4 rules in 2 of 2 schemas: 2 evaluated on create, 1 on update only (compiled, not applicable to objects "
        "being created), 1 cannot be evaluated",
    ]
