"""SealedSecrets and External Secrets beside SOPS, the salt-key guard, and no secret left in the open."""

from __future__ import annotations

import base64
import datetime
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from kubesealpy import SealedSecret, SealingScope, Unsealer
from kubesealpy.exceptions import KubesealPyError

from generator.cli import cli
from generator.crds import BUNDLED
from tests.conftest import BASE_SECRETS, LITELLM_SECRET_DATA, MINIMAL, Repo, git, make_repo, tree_bytes

HEAD = MINIMAL.split("models:")[0]
MODELS = "models:" + MINIMAL.split("models:")[1]
APP = "kubernetes/apps/ai-system/litellm/app"


def controller_key(root: Path) -> tuple[rsa.RSAPrivateKey, Path]:
    """A sealed-secrets controller key pair as the controller makes it: RSA 4096, self-signed cert."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sealed-secret")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    path = root / "sealed-secrets.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, path


def sealed_repo(root: Path, scope: str = "strict") -> tuple[Repo, rsa.RSAPrivateKey]:
    settings = (
        HEAD
        + f"secrets:\n  provider: sealed-secrets\n  sealed:\n    cert: sealed-secrets.pem\n    scope: {scope}\n"
        + MODELS
    )
    repo = make_repo(root, settings)
    key, _ = controller_key(repo.root)
    return repo, key


@pytest.mark.parametrize("scope", ["strict", "namespace-wide", "cluster-wide"])
def test_sealed_secrets_unseal_with_an_independent_implementation(tmp_path: Path, scope: str) -> None:
    repo, key = sealed_repo(tmp_path / "r", scope)
    result = repo.configure()
    assert result.exit_code == 0, result.output
    unsealer = Unsealer.from_private_key(key)
    sealed_files = sorted(repo.output.rglob("*.sealed.yaml"))
    assert len(sealed_files) == 4
    text = (repo.output / APP / "secret.sealed.yaml").read_text()
    secret = unsealer.unseal(SealedSecret.from_yaml(text))
    assert {k: v.decode() for k, v in secret.get_data_decoded().items()} == LITELLM_SECRET_DATA
    doc = yaml.safe_load(text)
    annotations = doc["metadata"].get("annotations", {})
    expected = {} if scope == "strict" else {f"sealedsecrets.bitnami.com/{scope}": "true"}
    assert annotations == expected
    value = base64.b64decode(doc["spec"]["encryptedData"]["OPENAI_API_KEY"])
    ids = {
        "strict": SealingScope.STRICT,
        "namespace-wide": SealingScope.NAMESPACE_WIDE,
        "cluster-wide": SealingScope.CLUSTER_WIDE,
    }

    def unseal_as(namespace: str, name: str) -> bytes:
        return bytes(unsealer.unseal_value(value, namespace, name, scope=ids[scope]))

    assert unseal_as("ai-system", "litellm-secret") == BASE_SECRETS["openai"].encode()
    moves = {"other-name": ("ai-system", "other-name"), "other-namespace": ("other", "litellm-secret")}
    opens = {"strict": set(), "namespace-wide": {"other-name"}, "cluster-wide": {"other-name", "other-namespace"}}
    for move, (namespace, name) in moves.items():
        if move in opens[scope]:
            assert unseal_as(namespace, name) == BASE_SECRETS["openai"].encode()
        else:
            with pytest.raises(KubesealPyError):
                unseal_as(namespace, name)


def test_sealed_no_churn_and_one_secret_changes_one_line(tmp_path: Path) -> None:
    repo, _ = sealed_repo(tmp_path / "r")
    git(repo.root, "init", "-q")
    assert repo.configure().exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "first")
    (repo.root / ".clusterforge" / "cluster.yaml.state.json").unlink()  # force the full path, not the fast one
    assert repo.configure().exit_code == 0
    assert git(repo.root, "status", "--porcelain") == ""
    repo.secrets_file.add("openai", "sk-test-openai-resealed-99")
    assert repo.configure().exit_code == 0
    assert git(repo.root, "status", "--porcelain").splitlines() == [
        " M cluster.secrets.sops.yaml",
        f" M output/{APP}/secret.sealed.yaml",
    ]
    changed = [
        line
        for line in git(repo.root, "diff", "-U0", f"output/{APP}/secret.sealed.yaml").splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert [line.split(":")[0] for line in changed] == ["-    OPENAI_API_KEY", "+    OPENAI_API_KEY"]


def test_a_fresh_clone_without_the_record_reseals_once_and_says_so(tmp_path: Path) -> None:
    repo, _ = sealed_repo(tmp_path / "r")
    assert repo.configure().exit_code == 0
    before = tree_bytes(repo.output)
    for local in (repo.root / ".clusterforge").iterdir():
        local.unlink()
    again = repo.configure()
    assert again.exit_code == 0
    assert "no local record of what was sealed" in again.stderr
    assert "sealed 4 secret file(s) again" in again.stderr
    after = tree_bytes(repo.output)
    assert {p for p in after if after[p] != before[p]} == {p for p in after if p.endswith(".sealed.yaml")}
    (repo.root / ".clusterforge" / "cluster.yaml.state.json").unlink()
    third = repo.configure()
    assert "no local record" not in third.stderr
    assert tree_bytes(repo.output) == after
    record = json.loads((repo.root / ".clusterforge" / "cluster.yaml.sealed.json").read_text())
    text = json.dumps(record)
    for value in BASE_SECRETS.values():
        assert value not in text
    assert oct((repo.root / ".clusterforge" / "cluster.yaml.sealed.json").stat().st_mode & 0o777) == "0o600"


def eso_settings(extra_models: str = "") -> str:
    return (
        HEAD + "secrets:\n  provider: external-secrets\n  external:\n    vault:\n"
        "      server: https://vault.example.org\n      auth: {role: external-secrets}\n"
        + MODELS
        + extra_models
        + "cache: {type: valkey}\n"
    )


def eso_repo(root: Path, extra_models: str = "") -> Repo:
    """A repository without a secrets file or an age key: External Secrets needs neither."""
    root.mkdir(parents=True)
    (root / "cluster.yaml").write_text(eso_settings(extra_models))
    return Repo(root)


def schema_for(doc: dict[str, Any]) -> Any:
    group, version = doc["apiVersion"].split("/")
    return jsonschema_rs.validator_for(
        json.loads((BUNDLED / group / f"{doc['kind'].lower()}_{version}.json").read_text())
    )


def test_external_secrets_need_no_local_values_and_pass_the_crd_schemas(tmp_path: Path) -> None:
    repo = eso_repo(tmp_path / "r")
    result = repo.configure()
    assert result.exit_code == 0, result.output
    assert not (repo.root / "age.key").exists()
    checked = 0
    for path in sorted(repo.output.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") not in (
                "ExternalSecret",
                "ClusterSecretStore",
                "HelmRelease",
                "HelmRepository",
            ):
                continue
            errors = [e.message for e in schema_for(doc).iter_errors(doc)]
            assert errors == [], (path, errors)
            checked += 1
    assert checked >= 6
    store = yaml.safe_load(
        (
            repo.output / "kubernetes/apps/external-secrets/external-secrets-store/app/clustersecretstore.yaml"
        ).read_text()
    )
    assert store["spec"]["provider"]["vault"]["auth"]["kubernetes"]["role"] == "external-secrets"
    external = yaml.safe_load((repo.output / APP / "secret.externalsecret.yaml").read_text())
    assert external["spec"]["target"]["template"]["data"]["DATABASE_URL"] == (
        "postgresql://litellm:{{ .database_password | urlquery }}"
        "@litellm-db-pooler-rw.ai-system.svc.cluster.local:5432/litellm?pgbouncer=true"
    )
    assert {d["secretKey"]: d["remoteRef"]["key"] for d in external["spec"]["data"]}["openai"] == "litellm/openai"
    ks = yaml.safe_load((repo.output / "kubernetes/apps/ai-system/litellm/ks.yaml").read_text())
    assert {"name": "external-secrets-store"} in ks["spec"]["dependsOn"]
    root_ks = yaml.safe_load((repo.output / "kubernetes/flux/cluster/ks.yaml").read_text())
    assert "decryption" not in root_ks["spec"]


def test_external_secrets_no_churn(tmp_path: Path) -> None:
    repo = eso_repo(tmp_path / "r")
    assert repo.configure().exit_code == 0
    before = tree_bytes(repo.output)
    (repo.root / ".clusterforge" / "cluster.yaml.state.json").unlink()
    again = repo.configure()
    assert "0 created, 0 changed" in again.output
    assert tree_bytes(repo.output) == before


@pytest.mark.parametrize("provider", ["sops", "sealed-secrets"])
def test_salt_key_rotation_is_refused_unless_allowed(tmp_path: Path, provider: str) -> None:
    if provider == "sops":
        repo = make_repo(tmp_path / "r")
    else:
        repo, _ = sealed_repo(tmp_path / "r")
    assert repo.configure().exit_code == 0
    before = tree_bytes(repo.output)
    refused = repo.cli("secrets", "generate", "litellm_salt_key")
    assert refused.exit_code == 2
    assert "litellm_salt_key is set already" in refused.stderr
    repo.secrets_file.add("litellm_salt_key", "a-different-salt-key-0123456789abcdef")  # as a hand edit would
    result = repo.configure()
    assert result.exit_code == 2
    assert result.stderr.startswith("the LiteLLM salt key would change.")
    assert "--allow-salt-key-rotation" in result.stderr
    assert tree_bytes(repo.output) == before
    allowed = repo.configure("--allow-salt-key-rotation")
    assert allowed.exit_code == 0, allowed.output
    assert f"change  output/{APP}/" in allowed.output
    assert repo.configure().exit_code == 0  # the new key is now what is rendered


def test_a_self_hosted_backend_key_is_one_secret_on_both_sides(tmp_path: Path) -> None:
    settings = MINIMAL + (
        "  - name: llama\n    provider: hosted_vllm\n    model: meta-llama/Llama-3.3-70B-Instruct\n"
        "    credential: vllm_llama\n"
        "    backend: {namespace: llm-platform, predictor: llama, api_key_secret: {name: vllm-api-key}}\n"
    )
    repo = make_repo(tmp_path / "r", settings, {**BASE_SECRETS, "vllm_llama": "vllm-shared-key-777"})
    assert repo.configure().exit_code == 0
    server = yaml.safe_load(
        repo.decrypt(
            repo.output / "kubernetes/apps/llm-platform/llm-platform-model-keys/app/vllm-api-key-secret.sops.yaml"
        )
    )
    assert (server["metadata"]["namespace"], server["stringData"]) == (
        "llm-platform",
        {"VLLM_API_KEY": "vllm-shared-key-777"},
    )
    litellm = yaml.safe_load(repo.decrypt(repo.output / APP / "secret.sops.yaml"))
    assert litellm["stringData"]["VLLM_LLAMA_API_KEY"] == "vllm-shared-key-777"
    repo.secrets_file.add("vllm_llama", "vllm-rotated-key-888")
    assert repo.configure().exit_code == 0
    rotated = yaml.safe_load(
        repo.decrypt(
            repo.output / "kubernetes/apps/llm-platform/llm-platform-model-keys/app/vllm-api-key-secret.sops.yaml"
        )
    )
    assert (
        rotated["stringData"]["VLLM_API_KEY"]
        == yaml.safe_load(repo.decrypt(repo.output / APP / "secret.sops.yaml"))["stringData"]["VLLM_LLAMA_API_KEY"]
        == "vllm-rotated-key-888"
    )


def test_secrets_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(
        tmp_path / "r", MINIMAL + "  - {name: c, provider: anthropic, model: claude, credential: anthropic}\n"
    )
    listed = repo.cli("secrets", "list")
    assert listed.exit_code == 0
    assert [line.split()[:2] for line in listed.output.splitlines()[1:]] == [
        ["litellm_master_key", "present"],
        ["litellm_salt_key", "present"],
        ["database_password", "present"],
        ["cache_password", "present"],
        ["ui_password", "present"],
        ["openai", "present"],
        ["anthropic", "missing"],
    ]
    verify = repo.cli("secrets", "verify")
    assert verify.exit_code == 1
    assert verify.stderr.splitlines() == [
        "anthropic: missing (the API key of anthropic; used by cluster.yaml:11 models[1].credential)",
        "1 of 7 secrets missing or empty in cluster.secrets.sops.yaml",
    ]
    no_terminal = repo.cli("secrets", "set", "anthropic")
    assert no_terminal.exit_code == 2
    assert no_terminal.stderr == "no terminal to ask in: pipe the value with --from-stdin\n"
    monkeypatch.chdir(repo.root)
    stored = CliRunner().invoke(cli, ["secrets", "set", "anthropic", "--from-stdin"], input="sk-ant-from-stdin-31\n")
    assert stored.exit_code == 0, stored.output
    assert "added 'anthropic'" in stored.output
    assert repo.cli("secrets", "get", "anthropic").output == "sk-ant-from-stdin-31\n"
    assert repo.cli("secrets", "verify").exit_code == 0
    exists = repo.cli("secrets", "generate", "cache_password")
    assert exists.exit_code == 2
    assert repo.cli("secrets", "generate", "cache_password", "--force").exit_code == 0
    assert repo.cli("secrets", "get", "cache_password").output.strip() != BASE_SECRETS["cache_password"]
    assert repo.cli("secrets", "generate", "openai").exit_code == 2


def test_secret_values_never_reach_a_command_line(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every child process clusterforge starts is recorded, then run as usual."""
    seen: list[str] = []
    real_run = subprocess.run

    def recording_run(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        added = {k: v for k, v in (kwargs.get("env") or {}).items() if os.environ.get(k) != v}
        seen.append(" ".join(str(a) for a in argv) + " " + " ".join(f"{k}={v}" for k, v in added.items()))
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", recording_run)
    assert repo.configure().exit_code == 0
    monkeypatch.chdir(repo.root)
    stored = CliRunner().invoke(
        cli, ["secrets", "set", "openai", "--from-stdin"], input="sk-test-openai-argv-check-1\n"
    )
    assert stored.exit_code == 0, stored.output
    assert repo.configure().exit_code == 0
    assert any("sops" in line and " set " in line for line in seen)
    assert any("sops" in line and " encrypt " in line for line in seen)
    for line in seen:
        for value in [*BASE_SECRETS.values(), "sk-test-openai-argv-check-1"]:
            assert value not in line, line


def test_no_secret_value_in_output_git_history_or_logs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo.root, "init", "-q")
    logs = []
    for args in (
        ("configure",),
        ("configure", "--dry-run", "--diff"),
        ("secrets", "list"),
        ("secrets", "verify"),
        ("models", "list"),
        ("doctor",),
    ):
        result = repo.cli(*args)
        logs.append(result.output + (result.stderr or ""))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "one")
    repo.secrets_file.add("openai", "sk-test-openai-history-2")
    result = repo.configure("--diff")
    logs.append(result.output + result.stderr)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "two")
    history = git(repo.root, "log", "-p", "--all")
    files = "".join(data.decode("utf-8", "replace") for data in tree_bytes(repo.output).values())
    for value in [*BASE_SECRETS.values(), "sk-test-openai-history-2"]:
        assert value not in history
        assert value not in files
        assert all(value not in log for log in logs)


def test_doctor_reports_the_tools(repo: Repo) -> None:
    result = repo.cli("doctor")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("ok       sops 3.")
    assert lines[1].startswith("ok       kubectl v1.")
    assert any(line.startswith(("absent   kubeseal", "ok       kubeseal")) for line in lines)
