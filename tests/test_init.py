"""init creates what is missing, with a private age key, and never overwrites anything."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import yaml

from tests.conftest import decrypt_with_sops, run_cli, tree_bytes


def test_init_creates_a_repository_that_configures(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init")
    assert result.exit_code == 0, result.output
    for name in ("cluster.yaml", "age.key", ".sops.yaml", ".gitignore", "cluster.secrets.sops.yaml"):
        assert f"created  {name}" in result.output
    assert stat.S_IMODE((tmp_path / "age.key").stat().st_mode) == 0o600
    assert (
        "kubectl create secret generic sops-age --namespace flux-system --from-file=age.agekey=age.key" in result.output
    )

    settings = (tmp_path / "cluster.yaml").read_text()
    assert "tests/demo" not in settings and "demo-only" not in settings
    assert settings.startswith("# yaml-language-server: $schema=")

    rules = yaml.safe_load((tmp_path / ".sops.yaml").read_text())
    assert rules["stores"] == {"yaml": {"indent": 2}}
    assert rules["creation_rules"][1]["encrypted_regex"] == "^(data|stringData)$"
    assert rules["creation_rules"][1]["mac_only_encrypted"] is True
    assert {"age.key", ".clusterforge/"} <= set((tmp_path / ".gitignore").read_text().splitlines())

    values = yaml.safe_load(decrypt_with_sops(tmp_path / "cluster.secrets.sops.yaml", tmp_path / "age.key"))
    assert re.fullmatch(r"sk-[0-9a-f]{32,}", values["litellm_master_key"])
    assert len(values["litellm_salt_key"]) >= 32
    assert set(values) == {
        "litellm_master_key",
        "litellm_salt_key",
        "database_password",
        "cache_password",
        "ui_password",
    }

    # the example's models need provider keys; once they are there, configure renders
    secrets = tmp_path / "cluster.secrets.sops.yaml"
    from generator.secrets.sops import Sops

    sops = Sops(tmp_path / ".sops.yaml", tmp_path / "age.key", tmp_path)
    sops.set_value("cluster.secrets.sops.yaml", "openai", "sk-openai-init-test")
    sops.set_value("cluster.secrets.sops.yaml", "anthropic", "sk-ant-init-test")
    assert secrets.is_file()
    configured = run_cli(tmp_path, "configure")
    assert configured.exit_code == 0, configured.output


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init").exit_code == 0
    before = tree_bytes(tmp_path)
    again = run_cli(tmp_path, "init")
    assert again.exit_code == 0
    assert "created" not in again.output
    assert tree_bytes(tmp_path) == before


def test_init_keeps_existing_files_and_adds_missing_secrets(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init").exit_code == 0
    settings = tmp_path / "cluster.yaml"
    settings.write_text(settings.read_text() + "\n# my own comment\n")
    key_before = (tmp_path / "age.key").read_bytes()
    sops_values = yaml.safe_load(decrypt_with_sops(tmp_path / "cluster.secrets.sops.yaml", tmp_path / "age.key"))
    # switch to an in-cluster Valkey: nothing new; drop the cache password to see it regenerated
    from generator.secrets.sops import Sops

    sops = Sops(tmp_path / ".sops.yaml", tmp_path / "age.key", tmp_path)
    sops.command.run("unset", "cluster.secrets.sops.yaml", '["cache_password"]', cwd=tmp_path)
    result = run_cli(tmp_path, "init")
    assert result.exit_code == 0, result.output
    assert "generated secrets: cache_password" in result.output
    assert settings.read_text().endswith("# my own comment\n")
    assert (tmp_path / "age.key").read_bytes() == key_before
    after = yaml.safe_load(decrypt_with_sops(tmp_path / "cluster.secrets.sops.yaml", tmp_path / "age.key"))
    assert after["litellm_master_key"] == sops_values["litellm_master_key"]
    assert after["cache_password"] != sops_values["cache_password"]


def test_configure_refuses_an_age_key_others_can_read(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init").exit_code == 0
    (tmp_path / "age.key").chmod(0o644)
    result = run_cli(tmp_path, "configure")
    assert result.exit_code == 2
    assert result.stderr == "age.key: the age key is readable by others (mode 644); run `chmod 600 age.key`\n"
