"""The CEL corpus: manifests that pass their JSON schema but break one CEL rule each, and manifests
that keep the same rules. Each must really pass the JSON schema, so what is caught is the rule's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml_rs

from generator.cel.whole import build
from generator.errors import dotted
from generator.validate.celrules import rule_violations
from generator.validate.fetch import Fetcher
from generator.validate.locations import parse_location
from generator.validate.model import Severity
from generator.validate.schemas import CoreSchemas, SchemaStore
from tests.conftest import CRD_SCHEMAS, run_cli

CORPUS = Path(__file__).parent / "cel"
INVALID = sorted((CORPUS / "invalid").glob("*.yaml"))
VALID = sorted((CORPUS / "valid").glob("*.yaml"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SchemaStore:
    cache = tmp_path_factory.mktemp("cache")
    return SchemaStore(CoreSchemas("1.32", cache), [parse_location(str(CRD_SCHEMAS))], Fetcher(cache))


def _expectation(path: Path, key: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}: "):
            return line[len(f"# {key}: ") :]
    raise AssertionError(f"{path.name} has no '# {key}:' line")


def _checked(store: SchemaStore, path: Path) -> list[tuple[str, Severity, str, str]]:
    data = yaml_rs.loads(path.read_text(), parse_datetime=False)
    lookup = store.for_kind(data["apiVersion"], data["kind"])
    assert lookup.validator is not None, f"no schema for {data['kind']}"
    errors = [error.message for error in lookup.validator.iter_errors(data)]
    assert errors == [], f"{path.name} must pass its JSON schema, so that what fails is a CEL rule"
    assert lookup.rules is not None
    return [(dotted(p), severity, message, rule) for p, severity, message, rule in rule_violations(lookup, data, True)]


# Every bundled kind with a rule that applies on create has broken cases. Kustomization and GitRepository
# have none at the versions clusterforge supports (kustomize-controller and source-controller v1.6.0: their
# kubeConfig and serviceAccountName rules came later); ScheduledBackup has only a transition rule.
KINDS_WITH_CREATE_RULES = {
    "HTTPRoute",
    "Gateway",
    "Cluster",
    "Database",
    "Pooler",
    "HelmRelease",
    "ClusterSecretStore",
    "Dragonfly",
    "ObjectStore",
}


def test_corpus_size_and_kinds(store: SchemaStore) -> None:
    assert len(INVALID) >= 30
    assert len(VALID) >= 10
    kinds = {yaml_rs.loads(p.read_text(), parse_datetime=False)["kind"] for p in INVALID}
    assert kinds == KINDS_WITH_CREATE_RULES
    for api_version, kind in (
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    ):
        assert store.for_kind(api_version, kind).rules is None, f"{kind} has CEL rules now: add cases breaking them"


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_each_broken_rule_is_caught_with_its_message(store: SchemaStore, path: Path) -> None:
    found = _checked(store, path)
    assert len(found) == 1, found
    where, severity, message, rule = found[0]
    assert severity is Severity.ERROR
    assert _expectation(path, "expect") in message
    assert where == _expectation(path, "at")
    assert rule.strip()


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_manifests_keeping_the_rules_are_not_flagged(store: SchemaStore, path: Path) -> None:
    assert _checked(store, path) == []


def test_validate_reports_each_rule_at_its_line(tmp_path: Path) -> None:
    """End to end: one finding per corpus file, at the line of the value, carrying its rule."""
    result = run_cli(
        CORPUS,
        "validate",
        "invalid",
        "valid",
        "--schema-location",
        str(CRD_SCHEMAS),
        "--output",
        "json",
        "--repo-root",
        str(CORPUS),
    )
    report = json.loads(result.output)
    with_rules = [f for f in report["findings"] if "rule" in f]
    assert sorted({f["file"] for f in with_rules}) == sorted(f"invalid/{p.name}" for p in INVALID)
    for finding in with_rules:
        path = CORPUS / finding["file"]
        where = _expectation(path, "at")
        assert finding["message"].startswith(f"{where}: ")
        assert _expectation(path, "expect") in finding["message"]
        assert finding["severity"] == "error"
        line = path.read_text().splitlines()[finding["line"] - 1].lstrip()
        if where.endswith("]"):  # a list item: its first line
            assert line.startswith("- "), (finding, line)
        else:
            assert line.removeprefix("- ").startswith(f"{where.rsplit('.', 1)[-1]}:"), (finding, line)


@pytest.mark.parametrize("path", INVALID + VALID, ids=[p.stem for p in INVALID + VALID])
def test_the_whole_object_check_agrees_with_the_rule_by_rule_walk(store: SchemaStore, path: Path) -> None:
    """Many objects of one kind are first checked in one go (generator.cel.whole): it must find an object
    clean exactly when the walk over each rule place does."""
    data = yaml_rs.loads(path.read_text(), parse_datetime=False)
    rules = store.for_kind(data["apiVersion"], data["kind"]).rules
    assert rules is not None and rules.root is not None
    whole = build(rules.root)
    assert whole is not None
    assert whole.holds(rules.root, data) is (path in VALID)
