"""configure end to end: golden output, no churn, atomic failures, encryption, kustomize."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from generator import render
from tests.conftest import (
    BASE_SECRETS,
    LITELLM_SECRET_DATA,
    MINIMAL,
    ROOT,
    Repo,
    decrypt_with_sops,
    git,
    make_repo,
    run_cli,
    tree_bytes,
)

VALID = sorted((ROOT / "tests" / "settings" / "valid").glob("*.yaml"))
EXTRA_SECRETS = {
    "azure_us_east": "azure-key-7f7f7f",
    "anthropic": "sk-ant-test-8a8a8a",
    "aws_access_key_id": "AKIATESTTESTTEST",
    "aws_secret_access_key": "aws-secret-9b9b9b9b",
    "gcp": '{"type": "service_account", "project_id": "my-project"}',
    "vllm": "vllm-shared-key-1c1c",
    "groq": "gsk-test-2d2d2d",
    "cache_sentinel_password": "sentinel-pass-3e3e",
}


def plain_and_secret(tree: dict[str, bytes]) -> tuple[dict[str, bytes], list[str]]:
    return (
        {p: b for p, b in tree.items() if not p.endswith(".sops.yaml")},
        sorted(p for p in tree if p.endswith(".sops.yaml")),
    )


def test_example_renders_exactly_to_the_committed_output(example_repo: Repo) -> None:
    committed = tree_bytes(ROOT / "output")
    fresh = example_repo.root / "fresh"
    result = example_repo.configure("--output", str(fresh))
    assert result.exit_code == 0, result.output
    rendered = tree_bytes(fresh)
    committed_plain, committed_secrets = plain_and_secret(committed)
    rendered_plain, rendered_secrets = plain_and_secret(rendered)
    assert rendered_plain == committed_plain
    assert rendered_secrets == committed_secrets
    key = ROOT / "tests" / "demo" / "age.key"
    for path in committed_secrets:
        # encryption is random: compare what Flux will decrypt
        assert yaml.safe_load(decrypt_with_sops(fresh / path, key)) == yaml.safe_load(
            decrypt_with_sops(ROOT / "output" / path, key)
        ), path


def test_committed_output_is_up_to_date() -> None:
    result = run_cli(ROOT, "configure", "--config", "cluster.example.yaml", "--check")
    assert result.exit_code == 0, result.output


def test_second_configure_changes_nothing_and_one_secret_changes_one_file(repo: Repo) -> None:
    git(repo.root, "init", "-q")
    assert repo.configure().exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "first")
    again = repo.configure()
    assert again.exit_code == 0
    assert "0 created, 0 changed" in again.output
    assert git(repo.root, "status", "--porcelain") == ""

    repo.secrets_file.add("openai", "sk-test-openai-rotated-4242")
    git(repo.root, "add", "cluster.secrets.sops.yaml")
    git(repo.root, "commit", "-qm", "rotate")
    assert repo.configure().exit_code == 0
    changed = git(repo.root, "status", "--porcelain").splitlines()
    assert changed == [" M output/kubernetes/apps/ai-system/litellm/app/secret.sops.yaml"]
    secret = yaml.safe_load(repo.decrypt(repo.output / "kubernetes/apps/ai-system/litellm/app/secret.sops.yaml"))
    assert secret["stringData"]["OPENAI_API_KEY"] == "sk-test-openai-rotated-4242"


def test_every_secret_decrypts_with_sops_to_the_expected_secret(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    secrets = {
        p.relative_to(repo.output).as_posix(): yaml.safe_load(repo.decrypt(p)) for p in repo.output.rglob("*.sops.yaml")
    }
    litellm = secrets["kubernetes/apps/ai-system/litellm/app/secret.sops.yaml"]
    assert litellm["kind"] == "Secret"
    assert litellm["metadata"]["name"] == "litellm-secret"
    assert litellm["stringData"] == LITELLM_SECRET_DATA
    migrate = secrets["kubernetes/apps/ai-system/litellm-migrate/app/migrate-secret.sops.yaml"]
    # migrations need a session: straight to the primary, not through PgBouncer
    assert migrate["stringData"] == {
        "DATABASE_URL": (
            f"postgresql://litellm:{BASE_SECRETS['database_password']}"
            "@litellm-db-rw.ai-system.svc.cluster.local:5432/litellm"
        )
    }
    owner = secrets["kubernetes/apps/ai-system/litellm-db/app/owner-secret.sops.yaml"]
    assert owner["type"] == "kubernetes.io/basic-auth"
    assert owner["stringData"] == {"username": "litellm", "password": BASE_SECRETS["database_password"]}
    cache = secrets["kubernetes/apps/ai-system/litellm-cache/app/secret.sops.yaml"]
    assert cache["stringData"] == {"password": BASE_SECRETS["cache_password"]}
    assert len(secrets) == 4


def test_no_secret_value_in_plaintext_under_output(example_repo: Repo) -> None:
    key = ROOT / "tests" / "demo" / "age.key"
    values = yaml.safe_load(decrypt_with_sops(ROOT / "tests/demo/cluster.secrets.sops.yaml", key))
    assert len(values) >= 6
    for path, data in tree_bytes(ROOT / "output").items():
        for name, value in values.items():
            assert value.encode() not in data, f"{name} in {path}"


def test_kustomize_builds_every_directory_of_the_committed_output() -> None:
    directories = sorted({p.parent for p in (ROOT / "output").rglob("kustomization.yaml")})
    assert len(directories) >= 9
    for directory in directories:
        proc = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{directory}: {proc.stderr}"


@pytest.mark.parametrize("case", VALID, ids=[c.stem for c in VALID])
def test_valid_settings_render_and_build(case: Path, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", case.read_text(), {**BASE_SECRETS, **EXTRA_SECRETS})
    result = repo.configure()
    assert result.exit_code == 0, result.output
    out = repo.root / yaml.safe_load(case.read_text())["gitops"].get("path", "output")
    assert (out / "kubernetes/flux/cluster/ks.yaml").is_file()
    for directory in {p.parent for p in out.rglob("kustomization.yaml")}:
        proc = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr


def snapshot(repo: Repo) -> dict[str, bytes]:
    return tree_bytes(repo.output)


@pytest.fixture
def configured(repo: Repo) -> Repo:
    assert repo.configure().exit_code == 0
    # a change that must not land: another model means new config, secret and deployment
    repo.config.write_text(
        MINIMAL + "  - {name: claude, provider: anthropic, model: claude-sonnet-4-5, credential: anthropic}\n"
    )
    repo.secrets_file.add("anthropic", "sk-ant-atomic-5151")
    return repo


def configure_with_templates(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Callable[[Path], None]
) -> Result:
    """configure with a copy of the shipped templates that `edit` has changed."""
    templates = tmp_path / "templates"
    shutil.copytree(render.template_dir(), templates)
    edit(templates)
    monkeypatch.setattr(render, "template_dir", lambda: templates)
    render.environment.cache_clear()  # the cached Jinja environment holds the folder it was made with
    try:
        return repo.configure()
    finally:
        render.environment.cache_clear()


def test_template_error_leaves_output_untouched(
    configured: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(configured)

    def break_service(templates: Path) -> None:
        (templates / "apps/litellm/service.yaml.j2").write_text("{{ undefined_name.port }}\n")

    result = configure_with_templates(configured, tmp_path, monkeypatch, break_service)
    assert result.exit_code == 4
    assert "undefined_name" in result.stderr
    assert snapshot(configured) == before


def test_sops_failure_leaves_output_untouched(configured: Repo) -> None:
    before = snapshot(configured)
    # creation rules that match the secrets file only: encrypting an output secret fails in sops itself
    rules = yaml.safe_load((configured.root / ".sops.yaml").read_text())
    rules["creation_rules"] = rules["creation_rules"][:1]
    (configured.root / ".sops.yaml").write_text(yaml.safe_dump(rules))
    result = configured.configure()
    assert result.exit_code == 3
    assert "no matching creation rules" in result.stderr
    assert snapshot(configured) == before


def test_kustomize_failure_leaves_output_untouched(
    configured: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(configured)

    def name_a_missing_file(templates: Path) -> None:
        # valid Jinja, but a kustomization that names a file that is not there
        kustomization = templates / "flux/kustomization.yaml.j2"
        kustomization.write_text(kustomization.read_text() + "  - ./missing.yaml\n")

    result = configure_with_templates(configured, tmp_path, monkeypatch, name_a_missing_file)
    assert result.exit_code == 1
    assert "kustomize build failed" in result.stderr
    assert "nothing was written" in result.stderr
    assert snapshot(configured) == before


def leftovers(repo: Repo) -> list[Path]:
    """Temporary files and transaction folders anywhere in the repository."""
    return [p for p in repo.root.rglob("*") if p.name.endswith(".clusterforge-tmp") or p.name.startswith("txn-")]


def test_a_full_disk_while_staging_changes_nothing(configured: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(configured)
    state_before = (configured.root / ".clusterforge" / "cluster.yaml.state.json").read_bytes()
    real_write = os.write
    calls = {"n": 0}

    def failing_write(fd: int, data: bytes) -> int:
        if "/.clusterforge/txn-" in os.readlink(f"/proc/self/fd/{fd}"):
            calls["n"] += 1
            if calls["n"] == 3:  # the third file staged
                raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", failing_write)
    result = configured.configure()
    monkeypatch.setattr(os, "write", real_write)
    assert result.exit_code == 2, result.output
    assert "could not write the new tree ([Errno 28] No space left on device); nothing was changed" in result.stderr
    assert snapshot(configured) == before
    assert (configured.root / ".clusterforge" / "cluster.yaml.state.json").read_bytes() == state_before
    assert not (configured.output / ".clusterforge").exists()
    assert leftovers(configured) == []


def test_a_failure_after_the_commit_point_is_finished_by_the_next_run(
    configured: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_rename = os.rename
    calls = {"n": 0}

    def failing_rename(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if "/.clusterforge/txn-" in str(source) and "/new/" in str(source):  # a staged file put in place
            calls["n"] += 1
            if calls["n"] >= 3:  # the third and every later one: the retry fails too
                raise OSError(5, "Input/output error")
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", failing_rename)
    result = configured.configure()
    monkeypatch.setattr(os, "rename", real_rename)
    assert calls["n"] > 3
    assert result.exit_code == 2, result.output
    assert "the new tree is committed but could not be put in place" in result.stderr
    assert "the next clusterforge command finishes it" in result.stderr
    check = configured.configure("--check")  # a reader: finishes the commit before reading
    assert check.exit_code == 0, check.output
    assert leftovers(configured) == []
    assert not (configured.output / ".clusterforge").exists()
    config = (configured.output / "kubernetes/apps/ai-system/litellm/app/configmap.yaml").read_text()
    assert "claude-sonnet-4-5" in config


def test_stale_generated_files_go_and_foreign_files_stay(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    foreign = repo.output / "kubernetes/flux/cluster/flux-system/gotk-sync.yaml"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("# written by flux bootstrap\n")
    repo.config.write_text(MINIMAL + "cache:\n  type: valkey\n")
    result = repo.configure()
    assert result.exit_code == 0, result.output
    assert "remove  output/kubernetes/apps/ai-system/litellm-cache/app/dragonfly.yaml" in result.output
    assert not (repo.output / "kubernetes/apps/dragonfly-operator-system").exists()
    assert (repo.output / "kubernetes/apps/ai-system/litellm-cache/app/statefulset.yaml").is_file()
    assert foreign.read_text() == "# written by flux bootstrap\n"


def test_refuses_to_overwrite_a_file_it_did_not_generate(repo: Repo) -> None:
    target = repo.output / "kubernetes/apps/ai-system/litellm/app/service.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("hand-written\n")
    result = repo.configure()
    assert result.exit_code == 2
    assert "was not generated by clusterforge" in result.stderr
    assert target.read_text() == "hand-written\n"
    assert len(tree_bytes(repo.output)) == 1


def test_dry_run_writes_nothing_and_check_reports_drift(repo: Repo) -> None:
    dry = repo.configure("--dry-run")
    assert dry.exit_code == 0
    assert "dry run, nothing written" in dry.output
    assert not repo.output.exists()
    check = repo.configure("--check")
    assert check.exit_code == 1
    assert "create: output/kubernetes/flux/cluster/ks.yaml" in check.stderr
    assert repo.configure().exit_code == 0
    assert repo.configure("--check").exit_code == 0


def test_diff_shows_changes_but_never_secret_values(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    repo.secrets_file.add("openai", "sk-test-openai-diffed-7777")
    repo.config.write_text(MINIMAL.replace("model: gpt-4o", "model: gpt-4o-2024-11-20"))
    result = repo.configure("--dry-run", "--diff")
    assert result.exit_code == 0
    assert "-          model: openai/gpt-4o\n+          model: openai/gpt-4o-2024-11-20" in result.output
    assert "+++ b/kubernetes/apps/ai-system/litellm/app/secret.sops.yaml\n<redacted: changed>" in result.output
    assert "sk-test-openai" not in result.output


def test_header_on_every_generated_file(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    for path, data in repo.files().items():
        assert data.startswith(b"# generated by clusterforge from cluster.yaml"), path


def test_litellm_config_has_no_nulls_and_references_env(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    configmap = yaml.safe_load((repo.output / "kubernetes/apps/ai-system/litellm/app/configmap.yaml").read_text())
    config = yaml.safe_load(configmap["data"]["config.yaml"])
    text = json.dumps(config)
    assert "null" not in text
    assert config["model_list"][0]["litellm_params"] == {
        "model": "openai/gpt-4o",
        "api_key": "os.environ/OPENAI_API_KEY",
    }
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert set(config) == {"model_list", "general_settings", "litellm_settings", "router_settings"}


def test_fast_path_notices_edited_and_stray_output_files(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    assert "(unchanged)" not in repo.configure().output  # the summary is the same either way
    service = repo.output / "kubernetes/apps/ai-system/litellm/app/service.yaml"
    original = service.read_bytes()
    service.write_bytes(original + b"# edited by hand\n")
    stray = repo.output / "kubernetes/apps/ai-system/litellm/app/old.yaml"
    stray.write_bytes(b"# generated by clusterforge from cluster.yaml: an old file\n")
    result = repo.configure()
    assert result.exit_code == 0
    assert "change  output/kubernetes/apps/ai-system/litellm/app/service.yaml" in result.output
    assert "remove  output/kubernetes/apps/ai-system/litellm/app/old.yaml" in result.output
    assert service.read_bytes() == original
    assert not stray.exists()


def test_fast_path_still_refuses_an_exposed_age_key(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    (repo.root / "age.key").chmod(0o644)
    result = repo.configure()
    assert result.exit_code == 2
    assert "readable by others" in result.stderr


def test_fast_path_sees_a_changed_secrets_file(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    repo.secrets_file.add("openai", "sk-test-openai-fastpath-1313")
    result = repo.configure()
    assert "change  output/kubernetes/apps/ai-system/litellm/app/secret.sops.yaml" in result.output
