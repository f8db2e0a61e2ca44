"""Shared fixtures: a builder for throwaway repositories with a real age key and sops files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli import cli
from generator.init import GITIGNORE_LINES, sops_config_text
from generator.secrets.agekey import create_age_key
from generator.secrets.sops import Sops, sops_program
from generator.secrets.store import SecretsFile

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "tests" / "demo"
# CRD schemas (catalog layout) with their x-kubernetes-validations, for the CEL tests: the ones the
# package bundles
CRD_SCHEMAS = ROOT / "generator" / "crds" / "bundled"
# a chart values schema of the tests' own, as a schema location: charts/demo-app/1.0.0 (written for the
# tests, the shape of app-template's), for tests of the values check itself
FIXTURE_SCHEMAS = ROOT / "tests" / "fixtures" / "schemas"
# CRDs written for the tests: widgets.example.org.yaml
FIXTURE_CRDS = ROOT / "tests" / "fixtures" / "crds"
CHART_SCHEMAS = ("--schema-location", str(FIXTURE_SCHEMAS))
# upstream's app-template 4.1.1 values schema (bjw-s) is not kept in the repository: tests that need that
# chart's real schema read it from the schema location this variable names (CI sets it)
APP_TEMPLATE_ENV = "CLUSTERFORGE_TEST_CHART_SCHEMAS"
APP_TEMPLATE_SCHEMA = "charts/app-template/4.1.1/values.schema.json"
EXAMPLE_FILES = ("cluster.example.yaml", "models.example.yaml")

MINIMAL = """\
cluster:
  name: test
  domain: example.org
gitops:
  repository: https://example.org/test.git
models:
  - name: gpt-4o
    provider: openai
    model: gpt-4o
    credential: openai
"""

BASE_SECRETS = {
    "litellm_master_key": "sk-" + "a1" * 24,
    "litellm_salt_key": "b2" * 32,
    "database_password": "c3" * 24,
    "cache_password": "d4" * 24,
    "openai": "sk-test-openai-5e5e5e5e5e5e",
    "ui_password": "ui-password-6f6f6f6f6f6f",
}

# what the LiteLLM Secret of MINIMAL holds, whichever provider carries it
LITELLM_SECRET_DATA = {
    "LITELLM_MASTER_KEY": BASE_SECRETS["litellm_master_key"],
    "LITELLM_SALT_KEY": BASE_SECRETS["litellm_salt_key"],
    "DATABASE_URL": (
        f"postgresql://litellm:{BASE_SECRETS['database_password']}"
        "@litellm-db-pooler-rw.ai-system.svc.cluster.local:5432/litellm?pgbouncer=true"
    ),
    "REDIS_PASSWORD": BASE_SECRETS["cache_password"],
    "OPENAI_API_KEY": BASE_SECRETS["openai"],
    "UI_PASSWORD": BASE_SECRETS["ui_password"],
}


def copy_example(root: Path) -> None:
    """The shipped example's settings and its demo key (private again: git cannot keep 0600)."""
    for name in EXAMPLE_FILES:
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(DEMO, root / "tests" / "demo")
    os.chmod(root / "tests" / "demo" / "age.key", 0o600)


@pytest.fixture(autouse=True, scope="session")
def _demo_key_private() -> None:
    # git cannot store mode 0600; clusterforge refuses keys others can read
    os.chmod(DEMO / "age.key", 0o600)


def app_template_schemas() -> Path:
    """The schema location holding app-template 4.1.1's values schema, from CLUSTERFORGE_TEST_CHART_SCHEMAS;
    without it the test is skipped, or fails where CLUSTERFORGE_REQUIRE_CHART_SCHEMAS=1 (CI)."""
    given = os.environ.get(APP_TEMPLATE_ENV, "")
    problem = f"{APP_TEMPLATE_ENV} is not set" if not given else ""
    if given and not (Path(given) / APP_TEMPLATE_SCHEMA).is_file():
        problem = f"{APP_TEMPLATE_ENV}={given} holds no {APP_TEMPLATE_SCHEMA}"
    if problem:
        if os.environ.get("CLUSTERFORGE_REQUIRE_CHART_SCHEMAS") == "1":
            pytest.fail(f"CLUSTERFORGE_REQUIRE_CHART_SCHEMAS=1 but {problem}")
        pytest.skip(f"{problem}: a schema location with upstream's app-template 4.1.1 values schema")
    return Path(given).resolve()


@pytest.fixture
def app_template_location() -> tuple[str, str]:
    """`--schema-location` for app-template 4.1.1's values schema (see app_template_schemas)."""
    return ("--schema-location", str(app_template_schemas()))


@pytest.fixture(scope="session")
def extracted_schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A schema folder made at test time with `schemas extract` from the tests' own CRDs, the bundled CRD
    schemas copied beside them and the tests' own chart values schemas."""
    from generator.crds import BUNDLED
    from generator.crds.extract import extract

    folder = tmp_path_factory.mktemp("schemas")
    shutil.copytree(BUNDLED, folder, dirs_exist_ok=True)
    extract([str(FIXTURE_CRDS)], folder)
    shutil.copytree(FIXTURE_SCHEMAS / "charts", folder / "charts")
    return folder


def kubeconform_program() -> str:
    """The kubeconform binary on PATH; without one the test is skipped, or fails where
    CLUSTERFORGE_REQUIRE_KUBECONFORM=1 (CI builds the real one and sets it)."""
    found = shutil.which("kubeconform")
    if found is None:
        if os.environ.get("CLUSTERFORGE_REQUIRE_KUBECONFORM") == "1":
            pytest.fail("CLUSTERFORGE_REQUIRE_KUBECONFORM=1 but there is no kubeconform on PATH")
        pytest.skip("no kubeconform binary on PATH (CI builds one)")
    return found


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)


@dataclass
class Repo:
    """A repository laid out as `clusterforge init` leaves it, with known secret values."""

    root: Path
    config_name: str = "cluster.yaml"

    @property
    def config(self) -> Path:
        return self.root / self.config_name

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def secrets_file(self) -> SecretsFile:
        return SecretsFile(
            self.root / "cluster.secrets.sops.yaml", Sops(self.root / ".sops.yaml", self.root / "age.key", self.root)
        )

    def cli(self, *args: str) -> Result:
        return run_cli(self.root, *args)

    def configure(self, *args: str) -> Result:
        return self.cli("configure", "--config", self.config_name, *args)

    def files(self) -> dict[str, bytes]:
        return tree_bytes(self.output)

    def decrypt(self, path: Path) -> str:
        return decrypt_with_sops(path, self.root / "age.key")


def tree_bytes(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_cli(cwd: Path, *args: str) -> Result:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def decrypt_with_sops(path: Path, key: Path) -> str:
    """The real sops binary, as Flux's kustomize-controller would decrypt it."""
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key)}
    proc = subprocess.run([sops_program(), "decrypt", str(path)], capture_output=True, env=env, check=True)
    return proc.stdout.decode()


def make_repo(root: Path, settings: str = MINIMAL, secrets: dict[str, str] | None = None) -> Repo:
    root.mkdir(parents=True, exist_ok=True)
    repo = Repo(root)
    repo.config.write_text(settings)
    (root / ".gitignore").write_text("\n".join(GITIGNORE_LINES) + "\n")
    key = create_age_key(root / "age.key")
    (root / ".sops.yaml").write_text(sops_config_text(key.recipient, "cluster.secrets.sops.yaml"))
    repo.secrets_file.create(dict(BASE_SECRETS if secrets is None else secrets))
    return repo


MODELS_FILE = "models:\n  - name: gpt-4o\n    provider: openai\n    model: gpt-4o\n    credential: openai\n"


def models_file_repo(root: Path) -> Repo:
    """A repository whose models list is models.yaml beside cluster.yaml."""
    repo = make_repo(root, MINIMAL.split("models:", maxsplit=1)[0] + "models: models.yaml\n")
    (root / "models.yaml").write_text(MODELS_FILE)
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def example_repo(tmp_path: Path) -> Iterator[Repo]:
    """A copy of the shipped example with its demo secrets, output included."""
    root = tmp_path / "example"
    root.mkdir()
    copy_example(root)
    if (ROOT / "output").exists():
        shutil.copytree(ROOT / "output", root / "output")
    yield Repo(root, "cluster.example.yaml")


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env).stdout


def python() -> str:
    return sys.executable
