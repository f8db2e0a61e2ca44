"""Settings files that must be rejected, each with its exact error line; and ones that must load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.settings.load import load_settings
from tests.conftest import MINIMAL, ROOT, make_repo, run_cli

CASES = ROOT / "tests" / "settings"
INVALID = sorted((CASES / "invalid").glob("*.yaml"))
VALID = sorted((CASES / "valid").glob("*.yaml"))


def expected_lines(case: Path) -> list[str]:
    return [
        line.removeprefix("# expect: ").rstrip("\n")
        for line in case.read_text().splitlines()
        if line.startswith("# expect: ")
    ]


def test_enough_rejected_cases() -> None:
    assert len(INVALID) >= 25


@pytest.mark.parametrize("case", INVALID, ids=[c.stem for c in INVALID])
def test_rejected_with_exact_message(case: Path, tmp_path: Path) -> None:
    shutil.copy(case, tmp_path / "cluster.yaml")
    result = run_cli(tmp_path, "configure", "--config", "cluster.yaml")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == expected_lines(case)
    assert "Traceback" not in result.output
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize("case", VALID, ids=[c.stem for c in VALID])
def test_valid_settings_load(case: Path) -> None:
    load_settings(case)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "cluster.yaml").write_text(
        "cluster: {name: test, domian: example.org}\n"
        "gitops: {repository: https://example.org/x.git, engine: argo}\n"
        "litellm: {replicas: 0}\n"
        "models: [{name: a, provider: openai, model: a, credential: openai, rpm: -1}]\n"
    )
    result = run_cli(tmp_path, "configure")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "cluster.yaml:1:1: cluster.domain: required key is missing",
        "cluster.yaml:1:23: cluster.domian: unknown key (did you mean domain?)",
        "cluster.yaml:2:57: gitops.engine: must be one of: flux, argocd; got 'argo' (did you mean argocd?)",
        "cluster.yaml:3:21: litellm.replicas: must be at least 1, got 0",
        "cluster.yaml:4:73: models[0].rpm: must be greater than 0, got -1",
    ]


def test_missing_settings_file_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "configure", "--config", "nope.yaml")
    assert result.exit_code == 2
    assert result.stderr == "nope.yaml: file not found\n"


def test_errors_in_models_file_point_into_it(tmp_path: Path) -> None:
    (tmp_path / "cluster.yaml").write_text(MINIMAL.split("models:")[0] + "models: models.yaml\n")
    (tmp_path / "models.yaml").write_text(
        "models:\n  - name: gpt-4o\n    provider: openai\n    model: gpt-4o\n    credential: openai\n    api_bse: x\n"
    )
    result = run_cli(tmp_path, "configure")
    assert result.exit_code == 2
    assert result.stderr == "models.yaml:6:5: models[0].api_bse: unknown key (did you mean api_base?)\n"


def test_models_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "cluster.yaml").write_text(MINIMAL.split("models:")[0] + "models: models.yaml\n")
    (tmp_path / "models.yaml").write_text(
        "# the models\nmodels:\n  - {name: m, provider: mistral, model: mistral-large-latest, credential: mistral}\n"
    )
    loaded = load_settings(tmp_path / "cluster.yaml")
    assert [(m.name, m.provider) for m in loaded.settings.models] == [("m", "mistral")]


def test_missing_secret_points_at_the_setting_that_needs_it(tmp_path: Path) -> None:
    settings = MINIMAL + "  - {name: claude, provider: anthropic, model: claude-sonnet-4-5, credential: anthropic}\n"
    repo = make_repo(tmp_path / "r", settings)
    result = repo.configure()
    assert result.exit_code == 2
    assert result.stderr == (
        "cluster.yaml:11:79: models[1].credential: secret 'anthropic' (the API key of anthropic) is missing "
        "from cluster.secrets.sops.yaml; add it with `clusterforge secrets set anthropic`\n"
    )
    assert not repo.output.exists()


def test_schema_command_matches_committed_schemas() -> None:
    result = run_cli(ROOT, "schema")
    assert result.exit_code == 0
    assert result.output == (ROOT / "cluster.schema.json").read_text()
    models = run_cli(ROOT, "schema", "--models")
    assert models.output == (ROOT / "models.schema.json").read_text()


def test_the_models_schema_accepts_the_example_and_rejects_a_typo() -> None:
    import json

    import jsonschema_rs
    import yaml

    validator = jsonschema_rs.validator_for(json.loads((ROOT / "models.schema.json").read_text()))
    example = yaml.safe_load((ROOT / "models.example.yaml").read_text())
    assert validator.is_valid(example)
    example["models"][0]["api_bse"] = "https://x"
    assert not validator.is_valid(example)


def test_every_provider_the_settings_accept_has_a_spec() -> None:
    """`models add --provider` offers the spec table; it must be exactly the providers a Model accepts."""
    import typing

    from generator.cli import PROVIDER_CHOICES
    from generator.settings.models import Model

    assert typing.get_args(Model.model_fields["provider"].annotation) == PROVIDER_CHOICES
