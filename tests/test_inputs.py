"""Input a user (or a bad editor) can write: each is one located error and exit 2, never exit 4 or a
traceback; --debug keeps the message and the exit code; the rough edges of the first run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from generator.cli import cli
from generator.errors import ToolError
from generator.validate.documents import YamlError, loads
from tests.conftest import BASE_SECRETS, MINIMAL, ROOT, Repo, run_cli

SECRETS = "cluster.secrets.sops.yaml"


def run_with_input(cwd: Path, text: str, *args: str) -> Result:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), input=text, catch_exceptions=False)
    finally:
        os.chdir(old)


def write_settings(repo: Repo, data: bytes) -> None:
    repo.config.write_bytes(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            MINIMAL.encode().replace(b"name: test", b"name: t\xffest"),
            "cluster.yaml:2:10: not UTF-8 text: byte 0xff (invalid start byte); save the file as UTF-8",
            id="invalid-start-byte",
        ),
        pytest.param(
            # columns count characters, not bytes: the two-byte é is one column
            MINIMAL.encode().replace(b"domain: example.org", "domain: é".encode() + b"x\xe9"),
            "cluster.yaml:3:13: not UTF-8 text: byte 0xe9 (invalid continuation byte); save the file as UTF-8",
            id="latin-1-after-utf-8",
        ),
        pytest.param(
            MINIMAL.encode("utf-16"),
            "cluster.yaml:1:1: the file is UTF-16 text; save it as UTF-8",
            id="utf-16",
        ),
        pytest.param(
            MINIMAL.encode().replace(b"name: test", b"name: te\x01st"),
            "cluster.yaml:2:11: control character U+0001 is not allowed in YAML; remove it",
            id="control-character",
        ),
        pytest.param(
            MINIMAL.encode().replace(b"name: test", b"name: te\x00st").replace(b"gpt-4o\n", b"gpt-4o\x00\n"),
            "cluster.yaml:2:11: NUL U+0000 is not allowed in YAML; remove it (2 more in the file)",
            id="nul",
        ),
        pytest.param(
            MINIMAL.encode().replace(b"gitops:", "\ufeffgitops:".encode()),
            "cluster.yaml:4:1: byte order mark U+FEFF is not allowed in YAML; remove it",
            id="byte-order-mark-inside",
        ),
        pytest.param(
            MINIMAL.encode().replace(b"name: test", "name: te\u2028st".encode()),
            "cluster.yaml:2:11: line separator U+2028 ends a line for some YAML parsers and not for others; remove it",
            id="line-separator",
        ),
        pytest.param(
            (MINIMAL + "litellm:\n  replicas: two\n").replace("\n", "\r\n").encode(),
            "cluster.yaml:12:13: litellm.replicas: must be an integer, got 'two'",
            id="crlf-lines-count-as-lines",
        ),
    ],
)
def test_bytes_that_are_no_yaml_text_are_located(repo: Repo, data: bytes, expected: str) -> None:
    write_settings(repo, data)
    result = repo.configure()
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [expected]


def test_a_leading_byte_order_mark_is_fine(repo: Repo) -> None:
    write_settings(repo, "\ufeff".encode() + MINIMAL.encode())
    result = repo.cli("models", "list")
    assert result.exit_code == 0, result.output
    assert "gpt-4o" in result.stdout


def test_models_file_errors_point_into_it_for_configure_and_for_edits(repo: Repo) -> None:
    repo.config.write_text(MINIMAL.split("models:")[0] + "models: models.yaml\n")
    models = "models:\n  - name: gpt-4o\n    provider: openai\n    model: !custom gpt-4o\n    credential: openai\n"
    (repo.root / "models.yaml").write_text(models)
    expected = (
        "models.yaml:4:12: models[0].model: unknown tag '!custom'; clusterforge reads plain YAML values, remove the tag"
    )
    configure = repo.configure()
    assert (configure.exit_code, configure.stderr.splitlines()) == (2, [expected])
    add = repo.cli("models", "add", "--name", "m", "--provider", "openai", "--model", "m", "--credential", "openai")
    assert (add.exit_code, add.stderr.splitlines()) == (2, [expected])
    broken = models.replace("!custom ", "").encode().replace(b"gpt-4o\n", b"gpt\xc0\xaf\n", 1)
    (repo.root / "models.yaml").write_bytes(broken)
    add = repo.cli("models", "add", "--name", "m", "--provider", "openai", "--model", "m", "--credential", "openai")
    assert add.exit_code == 2
    assert add.stderr.splitlines() == [
        "models.yaml:2:14: not UTF-8 text: byte 0xc0 (invalid start byte); save the file as UTF-8"
    ]
    assert (repo.root / "models.yaml").read_bytes() == broken


def test_a_plaintext_secrets_file_is_bad_input_not_a_sops_failure(repo: Repo) -> None:
    (repo.root / SECRETS).write_text("openai: sk-plain\n")
    for args in (("configure",), ("secrets", "get", "openai"), ("secrets", "verify")):
        result = repo.cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith(f"{SECRETS}:1:1: not encrypted by sops (there is no `sops:` section);")


def test_a_broken_encrypted_secrets_file_is_located(repo: Repo) -> None:
    path = repo.root / SECRETS
    encrypted = path.read_text()
    lines = encrypted.splitlines()
    openai = next(i for i, line in enumerate(lines) if line.startswith("openai:"))
    lines[openai] = lines[openai].replace("openai: ", "openai: !custom ")
    path.write_text("\n".join(lines) + "\n")
    message = "unknown tag '!custom'; clusterforge reads plain YAML values, remove the tag"
    for args in (("configure",), ("secrets", "list"), ("secrets", "set", "other", "--from-stdin")):
        result = run_with_input(repo.root, "value\n", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.splitlines() == [f"{SECRETS}:{openai + 1}:9: openai: {message}"]
    path.write_text(encrypted + "oops: [\n")
    result = repo.cli("secrets", "get", "openai")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{SECRETS}:{len(lines) + 2}:1: invalid YAML: ")


def test_decrypted_values_that_are_not_strings_are_located(repo: Repo) -> None:
    path = repo.root / SECRETS
    plaintext = yaml.safe_dump({**BASE_SECRETS, "openai": {"key": "sk"}, "Bad-Name": "x"}, sort_keys=False)
    path.unlink()
    path.write_bytes(repo.secrets_file.sops.encrypt(plaintext.encode(), SECRETS))
    lines = path.read_text().splitlines()
    openai = next(i for i, line in enumerate(lines) if line.startswith("openai:")) + 1
    bad = next(i for i, line in enumerate(lines) if line.startswith("Bad-Name:")) + 1
    result = repo.configure()
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{SECRETS}:{openai}:1: openai: must be a string; quote the value",
        f"{SECRETS}:{bad}:1: Bad-Name: secret names use lowercase letters, digits and '_'",
    ]
    assert "sk" not in result.stderr  # a secret even when it has the wrong type


def test_debug_keeps_the_located_message_and_the_exit_code(repo: Repo) -> None:
    repo.config.write_text(MINIMAL + "litellm:\n  replicas: two\n")
    plain = repo.cli("configure")
    debug = repo.cli("--debug", "configure")
    assert plain.exit_code == debug.exit_code == 2
    assert debug.stderr.startswith(plain.stderr)
    assert plain.stderr == "cluster.yaml:12:13: litellm.replicas: must be an integer, got 'two'\n"
    tail = debug.stderr.removeprefix(plain.stderr)
    assert tail.startswith("Traceback (most recent call last):")
    assert "SettingsError" in tail


def test_debug_keeps_exit_3_for_a_failing_sops(repo: Repo) -> None:
    # creation rules that match the secrets file only: encrypting an output secret fails in sops itself
    rules = yaml.safe_load((repo.root / ".sops.yaml").read_text())
    rules["creation_rules"] = rules["creation_rules"][:1]
    (repo.root / ".sops.yaml").write_text(yaml.safe_dump(rules))
    for args in (("configure",), ("--debug", "configure")):
        result = repo.cli(*args)
        assert result.exit_code == 3, result.output
        first = result.stderr.splitlines()[0]
        assert "failed with exit code" in first
        assert "no matching creation rules" in result.stderr
    assert "Traceback (most recent call last):" in result.stderr
    assert ToolError.__name__ in result.stderr


def test_debug_keeps_exit_4_for_a_bug(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(*_args: object, **_kwargs: object) -> None:
        raise KeyError("a bug in clusterforge")

    monkeypatch.setattr("generator.configure.configure", bug)
    plain, debug = repo.configure(), repo.cli("--debug", "configure")
    assert plain.exit_code == debug.exit_code == 4
    assert "run again with --debug" in plain.stderr and "Traceback" not in plain.stderr
    assert debug.stderr.startswith("internal error in clusterforge: KeyError: 'a bug in clusterforge'\n")
    assert "Traceback (most recent call last):" in debug.stderr


def test_init_names_the_secrets_still_missing_and_how_to_store_them(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "init")
    assert first.exit_code == 0, first.output
    assert "<secrets file>" not in first.output
    assert "  clusterforge secrets set openai\n  clusterforge secrets set anthropic\n" in first.stdout
    assert "sops cluster.secrets.sops.yaml" not in (tmp_path / "models.yaml").read_text()
    stored = run_with_input(tmp_path, "sk-test\n", "secrets", "set", "openai", "--from-stdin")
    assert stored.exit_code == 0, stored.output
    again = run_cli(tmp_path, "init")
    assert "clusterforge secrets set openai" not in again.stdout
    assert "  clusterforge secrets set anthropic\n" in again.stdout
    # the advice works as printed: with it, nothing is missing
    run_with_input(tmp_path, "sk-test\n", "secrets", "set", "anthropic", "--from-stdin")
    assert run_cli(tmp_path, "secrets", "verify").exit_code == 0


def test_missing_api_key_advice_names_the_settings_file_when_not_the_default(repo: Repo) -> None:
    (repo.root / "other.yaml").write_text(MINIMAL.replace("credential: openai", "credential: anthropic"))
    result = repo.cli("configure", "--config", "other.yaml")
    assert result.exit_code == 2
    assert result.stderr.rstrip().endswith("add it with `clusterforge secrets set anthropic --config other.yaml`")


def test_secrets_list_shows_a_default_setting_as_default_not_at_a_line(repo: Repo) -> None:
    assert "sso" not in repo.config.read_text()
    result = repo.cli("secrets", "list")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if line.startswith("ui_password"))
    assert row.split()[-2:] == ["sso.ui_username", "(default)"]
    written = next(line for line in result.stdout.splitlines() if line.startswith("openai"))
    assert written.endswith("cluster.yaml:10 models[0].credential")


GROUPS = {"clusterforge": (), "models": ("models",), "secrets": ("secrets",), "keys": ("keys",)}
WHOLE = [
    "configure Render the settings into the output tree; nothing is written unless all of it is valid.",
    "validate Validate a Flux or ArgoCD tree offline: schemas, kustomize builds, references between objects.",
]


@pytest.mark.parametrize("group", list(GROUPS.values()), ids=list(GROUPS))
def test_help_shows_whole_command_descriptions(tmp_path: Path, group: tuple[str, ...]) -> None:
    result = run_cli(tmp_path, *group, "--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1]
    assert "..." not in commands
    if not group:
        flat = " ".join(commands.split())
        for line in WHOLE:
            assert line in flat


def test_readme_init_comment_names_every_file_init_creates(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init")
    created = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("created")]
    assert len(created) == 8
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("clusterforge init          #") : readme.index("$EDITOR cluster.yaml")]
    for name in created:
        assert re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", block), name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- creation_rules\n", ".sops.yaml:1:1: sops rules are a mapping with a `creation_rules:` list"),
        ("creation_rules: 5\n", ".sops.yaml:1:1: creation_rules: must be a list of rules"),
        (
            "creation_rules:\n  - age: !custom x\n",
            ".sops.yaml:2:10: creation_rules[0].age: unknown tag '!custom'; clusterforge reads plain YAML values, "
            "remove the tag",
        ),
    ],
)
def test_sops_rules_are_read_like_the_settings(repo: Repo, text: str, expected: str) -> None:
    (repo.root / ".sops.yaml").write_text(text)
    result = repo.configure()
    assert (result.exit_code, result.stderr.splitlines()) == (2, [expected])


def test_an_output_secret_edited_by_hand_is_written_anew(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    secret = next(path for path in repo.output.rglob("*.sops.yaml"))
    secret.write_text(secret.read_text() + "extra: " + "9" * 5000 + "\n")
    result = repo.configure("--diff")
    assert result.exit_code == 0, result.output
    assert "extra:" not in secret.read_text()


def test_models_add_on_a_file_without_a_models_list_is_located(repo: Repo) -> None:
    repo.config.write_text(MINIMAL.split("models:")[0] + "models: models.yaml\n")
    (repo.root / "models.yaml").write_text("# models\ncredentials: []\nmodels: none\n")
    add = repo.cli("models", "add", "--name", "m", "--provider", "openai", "--model", "m", "--credential", "openai")
    assert add.exit_code == 2
    assert add.stderr.splitlines() == ["models.yaml:3:1: models: has no list of models to edit (`models:`)"]


@pytest.mark.parametrize("number", ["9" * 5000, "0x" + "f" * 4000, "_".join(["999"] * 1500)], ids=["dec", "hex", "_"])
def test_validate_reads_no_integer_python_cannot_print(number: str) -> None:
    text = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {number}\n"
    with pytest.raises(YamlError) as raised:
        loads(text)
    assert (raised.value.line, raised.value.message) == (4, "number too large (more than 4000 digits)")


def test_validate_survives_a_huge_integer_that_kustomize_builds(tmp_path: Path) -> None:
    """The CEL engine crashed the process (SIGSEGV) on a 5000-digit port in a built HTTPRoute."""
    case = ROOT / "tests" / "validate" / "broken" / "70-huge-integer"
    for name in ("route.yaml", "service.yaml"):
        (tmp_path / name).write_text((case / name).read_text())
    (tmp_path / "kustomization.yaml").write_text("resources: [route.yaml, service.yaml]\n")
    done = subprocess.run(
        [sys.executable, "-m", "generator", "validate", ".", "--repo-root", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[:2] == [
        "kustomization.yaml: kustomize build failed: the objects it builds hold what validate cannot read: "
        "number too large (more than 4000 digits)",
        "route.yaml:14: number too large (more than 4000 digits)",
    ]
