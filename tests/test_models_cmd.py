"""`clusterforge models`: edits keep the file as a person wrote it, and are checked before writing."""

from __future__ import annotations

import difflib
import os
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import BASE_SECRETS, MINIMAL, ROOT, Repo, make_repo

SETTINGS = MINIMAL.split("models:")[0] + (
    "litellm:\n  router_settings:\n    fallbacks:\n      gpt-4o: [claude-sonnet]\n"
    "    model_group_alias:\n      smart: claude-sonnet\nmodels: models.yaml\n"
)


@pytest.fixture
def models_repo(tmp_path: Path) -> Repo:
    repo = make_repo(tmp_path / "r", SETTINGS, {**BASE_SECRETS, "anthropic": "sk-ant-models-test-1"})
    shutil.copy(ROOT / "models.example.yaml", repo.root / "models.yaml")
    return repo


def diff(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_list_prints_a_table(models_repo: Repo) -> None:
    result = models_repo.cli("models", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "PROVIDER/MODEL", "CREDENTIAL", "LIMITS", "MODE"]
    assert lines[1].split() == ["gpt-4o", "openai/gpt-4o", "openai", "rpm", "500", "chat"]
    assert lines[3].split()[:3] == ["llama-3-70b", "hosted_vllm/meta-llama/Llama-3.3-70B-Instruct", "-"]


def test_add_only_adds_lines_and_keeps_every_comment(models_repo: Repo) -> None:
    path = models_repo.root / "models.yaml"
    before = path.read_text()
    result = models_repo.cli(
        "models",
        "add",
        "--name",
        "gpt-5",
        "--provider",
        "openai",
        "--model",
        "gpt-5",
        "--credential",
        "openai",
        "--rpm",
        "60",
        "--tag",
        "fast",
    )
    assert result.exit_code == 0, result.output
    after = path.read_text()
    assert diff(before, after) == [
        "+  - name: gpt-5\n",
        "+    provider: openai\n",
        "+    model: gpt-5\n",
        "+    credential: openai\n",
        "+    rpm: 60\n",
        "+    tags: [fast]\n",
        "+\n",
    ]
    # the new entry sits after the last model and before the file's trailing comments
    assert after.index("- name: gpt-5") < after.index("#  - name: gpt-4.1")
    assert models_repo.configure().exit_code == 0


def test_add_then_remove_restores_the_file_byte_for_byte(models_repo: Repo) -> None:
    path = models_repo.root / "models.yaml"
    before = path.read_bytes()
    assert (
        models_repo.cli(
            "models",
            "add",
            "--name",
            "mini",
            "--provider",
            "groq",
            "--model",
            "llama-3.1-8b-instant",
            "--credential",
            "openai",
        ).exit_code
        == 0
    )
    assert models_repo.cli("models", "remove", "mini").exit_code == 0
    assert path.read_bytes() == before


def test_remove_takes_the_comment_above_and_keeps_the_next_one(models_repo: Repo) -> None:
    models_repo.config.write_text(
        SETTINGS.replace("      gpt-4o: [claude-sonnet]\n", "      gpt-4o: [llama-3-70b]\n").replace(
            "smart: claude-sonnet", "smart: gpt-4o"
        )
    )
    path = models_repo.root / "models.yaml"
    before = path.read_text()
    assert models_repo.cli("models", "remove", "llama-3-70b").exit_code == 2  # still a fallback target
    assert path.read_text() == before
    result = models_repo.cli("models", "remove", "claude-sonnet")
    assert result.exit_code == 0, result.output
    entry = (
        "  - name: claude-sonnet\n    provider: anthropic\n    model: claude-sonnet-4-5\n"
        "    credential: anthropic\n    tpm: 200000\n\n"
    )
    assert entry in before
    assert path.read_text() == before.replace(entry, "")


def test_remove_is_refused_while_a_fallback_or_alias_names_it(models_repo: Repo) -> None:
    path = models_repo.root / "models.yaml"
    before = path.read_bytes()
    result = models_repo.cli("models", "remove", "claude-sonnet")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "cluster.yaml:9:16: litellm.router_settings.fallbacks.gpt-4o[0]: 'gpt-4o' falls back to 'claude-sonnet'",
        "cluster.yaml:11:14: litellm.router_settings.model_group_alias.smart: alias 'smart' names 'claude-sonnet'",
        "model 'claude-sonnet' is still named in the places above; change them first",
    ]
    assert path.read_bytes() == before


def test_add_that_breaks_a_rule_writes_nothing(models_repo: Repo) -> None:
    path = models_repo.root / "models.yaml"
    before = path.read_bytes()
    result = models_repo.cli(
        "models",
        "add",
        "--name",
        "rt",
        "--provider",
        "openai",
        "--model",
        "gpt-realtime",
        "--credential",
        "openai",
        "--mode",
        "realtime",
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "models.yaml:42:5: models[3]: realtime models cannot be health-checked in the background; "
        "add `disable_background_health_check: true`\n"
    )
    assert path.read_bytes() == before


def test_add_without_a_terminal_names_the_missing_flags(models_repo: Repo) -> None:
    result = models_repo.cli("models", "add", "--name", "x", "--provider", "azure", "--model", "gpt-4.1")
    assert result.exit_code == 2
    assert result.stderr == "missing --credential, --api-base, --api-version (or run in a terminal to be asked)\n"


def test_add_asks_for_what_is_missing_in_a_terminal(models_repo: Repo) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "generator", "models", "add", "--provider", "azure"],
        cwd=str(models_repo.root),
        env={**os.environ, "COLUMNS": "200"},
        encoding="utf-8",
        timeout=30,
    )
    for prompt, answer in (
        ("Model name", "gpt-4.1"),
        ("Upstream model id", "gpt-4.1"),
        ("Credential", "azure_us_east"),
        ("Azure resource name", "my-openai-east"),
        ("API version", ""),
    ):
        child.expect(prompt)
        child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    text = (models_repo.root / "models.yaml").read_text()
    assert "  - name: gpt-4.1\n    provider: azure\n    model: gpt-4.1\n    credential: azure_us_east\n" in text
    assert "    api_version: 2025-01-01-preview\n    resource: my-openai-east\n" in text


def test_show_prints_settings_and_rendered_entry(models_repo: Repo) -> None:
    result = models_repo.cli("models", "show", "llama-3-70b")
    assert result.exit_code == 0
    assert "# models.yaml:32: models[2]" in result.output
    assert "api_base: http://inference-gateway.llm-platform.svc.cluster.local/v1" in result.output
    assert "guardrails:\n      - message-trimming" in result.output


def test_inline_models_in_cluster_yaml_are_edited_there(repo: Repo) -> None:
    before = repo.config.read_text()
    result = repo.cli(
        "models",
        "add",
        "--name",
        "mistral-large",
        "--provider",
        "mistral",
        "--model",
        "mistral-large-latest",
        "--credential",
        "mistral",
    )
    assert result.exit_code == 0, result.output
    assert "note: add the secret 'mistral' to cluster.secrets.sops.yaml before configure" in result.stderr
    assert diff(before, repo.config.read_text()) == [
        "+  - name: mistral-large\n",
        "+    provider: mistral\n",
        "+    model: mistral-large-latest\n",
        "+    credential: mistral\n",
    ]


def test_remove_one_deployment_by_id_keeps_the_group(models_repo: Repo) -> None:
    for region in ("east", "west"):
        result = models_repo.cli(
            "models",
            "add",
            "--name",
            "gpt-4.1",
            "--provider",
            "azure",
            "--model",
            "gpt-4.1",
            "--credential",
            "openai",
            "--resource",
            f"my-{region}",
            "--api-version",
            "2025-01-01",
            "--id",
            f"gpt-4.1-{region}",
        )
        assert result.exit_code == 0, result.output
    assert models_repo.cli("models", "remove", "gpt-4.1", "--id", "gpt-4.1-east").exit_code == 0
    text = (models_repo.root / "models.yaml").read_text()
    assert "my-east" not in text and "my-west" in text


def test_add_on_a_500_model_file(tmp_path: Path) -> None:
    """Not a timing assertion: a large file stays editable and byte-stable (timing is in benchmarks/)."""
    entries = "".join(
        f"  # model {i}\n  - name: m{i}\n    provider: openai\n    model: gpt-4o\n"
        f"    credential: openai\n    rpm: {i + 1}\n\n"
        for i in range(500)
    )
    repo = make_repo(tmp_path / "big", MINIMAL.split("models:")[0] + "models: models.yaml\n")
    path = repo.root / "models.yaml"
    path.write_text("# big\nmodels:\n" + entries)
    before = path.read_text()
    assert (
        repo.cli(
            "models", "add", "--name", "new", "--provider", "openai", "--model", "o3", "--credential", "openai"
        ).exit_code
        == 0
    )
    assert diff(before, path.read_text()) == [
        "+  - name: new\n",
        "+    provider: openai\n",
        "+    model: o3\n",
        "+    credential: openai\n",
        "+\n",
    ]
