"""The ArgoCD engine: the golden rendering of examples/argocd.yaml, kustomize builds, schemas, sync waves
against Flux's dependsOn, the migration hook, KSOPS, the default secrets provider, switching engines.

`python -m tests.test_argocd` renders tests/golden/argocd again (after a deliberate change).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from kubesealpy import SealingScope, Unsealer

from generator.crds import BUNDLED
from generator.engines.argocd import ArgoCDEngine
from generator.engines.order import sync_order
from generator.errors import ClusterforgeError
from generator.outputs import PlainFile
from generator.secrets.providers.external import ExternalProvider
from generator.settings.models import Settings
from generator.stack import App, Chart, Manifest, Stack
from tests.conftest import CHART_SCHEMAS as LOCATIONS
from tests.conftest import DEMO, ROOT, Repo, copy_example, decrypt_with_sops, run_cli, tree_bytes

GOLDEN = ROOT / "tests" / "golden" / "argocd"
FLUX_ONLY = re.compile(r"(^|/)(ks\.yaml|namespace\.yaml|helmrelease\.yaml|ocirepository\.yaml|helmrepository\.yaml)$")
HOOK = "argocd.argoproj.io/hook"
WAVE = "argocd.argoproj.io/sync-wave"


def demo_controller_key() -> rsa.RSAPrivateKey:
    """The public demo sealed-secrets controller key (tests/demo/sealed-secrets.key): it opens the golden files."""
    key = serialization.load_pem_private_key((DEMO / "sealed-secrets.key").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def render_example(root: Path, example: str, engine: str | None = None, provider: str | None = None) -> Path:
    """examples/<example> rendered in a copy of the checkout's layout under ``root``: its output folder.
    ``engine`` rewrites gitops.engine first (the same settings, the other engine), ``provider`` writes
    secrets.provider (the default depends on the engine)."""
    (root / "examples").mkdir(parents=True)
    text = (ROOT / "examples" / example).read_text()
    if engine is not None:
        text = re.sub(r"(?m)^  engine: \w+$", f"  engine: {engine}", text)
    if provider is not None:
        text = text.replace("\nsecrets:\n", f"\nsecrets:\n  provider: {provider}\n", 1)
    (root / "examples" / example).write_text(text)
    copy_example(root)  # models.example.yaml and the demo key the examples name
    output = root / "output"  # where gitops.path (output) puts it in the repository
    result = run_cli(root, "configure", "--config", f"examples/{example}", "--output", str(output))
    assert result.exit_code == 0, result.output
    return output


def write_golden() -> None:
    """Render examples/argocd.yaml into tests/golden/argocd (run as `python -m tests.test_argocd`)."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        output = render_example(Path(scratch), "argocd.yaml")
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(output, GOLDEN)


@pytest.fixture(scope="module")
def argocd_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_example(tmp_path_factory.mktemp("argocd-example"), "argocd.yaml")


def unsealed(text: str, key: rsa.RSAPrivateKey) -> str:
    """A SealedSecret file with each sealed value replaced by what it opens to (strict scope)."""
    unsealer = Unsealer.from_private_key(key)
    document = yaml.safe_load(text)
    namespace, name = document["metadata"]["namespace"], document["metadata"]["name"]
    out = []
    for line in text.splitlines():
        match = re.fullmatch(r"    ([A-Za-z0-9_.-]+): ([A-Za-z0-9+/=]{40,})", line)
        if match is None:
            out.append(line)
            continue
        value = unsealer.unseal_value(base64.b64decode(match[2]), namespace, name, scope=SealingScope.STRICT)
        out.append(f"    {match[1]}: <opens to {bytes(value).decode()!r}>")
    return "\n".join(out)


def test_the_argocd_example_renders_the_golden_tree(argocd_example: Path) -> None:
    """Byte for byte, but SealedSecrets (sealing is random): those must open to the same values."""
    rendered, golden = tree_bytes(argocd_example), tree_bytes(GOLDEN)
    assert sorted(rendered) == sorted(golden)
    key = demo_controller_key()
    for path, data in golden.items():
        if path.endswith(".sealed.yaml"):
            assert unsealed(rendered[path].decode(), key) == unsealed(data.decode(), key), path
            assert "<opens to" in unsealed(data.decode(), key)
        else:
            assert rendered[path] == data, path


def test_the_golden_tree_is_an_app_of_apps_with_sealed_secrets() -> None:
    files = tree_bytes(GOLDEN)
    assert "argocd/root.yaml" in files
    applications = {p.rsplit("/", 1)[1].removesuffix(".yaml") for p in files if p.startswith("argocd/apps/")}
    assert applications == {
        "sealed-secrets",
        "cloudnative-pg",
        "dragonfly-operator",
        "litellm-db",
        "litellm-cache",
        "litellm",
    }
    assert not [p for p in files if FLUX_ONLY.search(p) or p.startswith("kubernetes/flux/")]
    assert not [p for p in files if p.endswith(".sops.yaml")]
    assert len([p for p in files if p.endswith(".sealed.yaml")]) == 4


def kustomization_dirs(output: Path) -> list[Path]:
    return sorted(p.parent for p in output.rglob("kustomization.yaml"))


def kustomize(directory: Path, *flags: str) -> list[dict[str, Any]]:
    proc = subprocess.run(["kubectl", "kustomize", *flags, str(directory)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def test_kustomize_builds_every_app_folder_of_the_golden_tree() -> None:
    dirs = kustomization_dirs(GOLDEN)
    assert len(dirs) == 4  # the chart-only apps need no folder: their Applications name the charts
    for directory in dirs:
        assert kustomize(directory)


def documents(output: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(output.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path.relative_to(output).as_posix(), document


def test_argocd_documents_pass_the_bundled_crd_schemas(argocd_example: Path) -> None:
    """Every Application and the AppProject against the bundled argoproj.io schemas (ArgoCD 2.8), directly."""
    crds = BUNDLED / "argoproj.io"
    validators = {
        kind: jsonschema_rs.validator_for(json.loads((crds / f"{kind.lower()}_v1alpha1.json").read_text()))
        for kind in ("Application", "AppProject")
    }
    seen = {"Application": 0, "AppProject": 0}
    for path, document in documents(argocd_example):
        if document.get("apiVersion") == "argoproj.io/v1alpha1":
            errors = [e.message for e in validators[document["kind"]].iter_errors(document)]
            assert not errors, (path, errors)
            seen[document["kind"]] += 1
    assert seen == {"Application": 7, "AppProject": 1}


def validate_clean(output: Path) -> None:
    result = run_cli(ROOT, "validate", str(output), "--repo-root", str(output.parent), *LOCATIONS, "--strict")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("0 errors, 0 warnings"), result.output


def test_the_argocd_example_validates_clean(argocd_example: Path) -> None:
    validate_clean(argocd_example)


def test_production_example_validates_clean_with_argocd(tmp_path: Path) -> None:
    """Issue 7: the everything-enabled example is clean for both engines (sops there: KSOPS)."""
    output = render_example(tmp_path, "production.yaml", engine="argocd")
    assert (output / "argocd/apps/litellm-route.yaml").is_file()
    assert (output / "kubernetes/apps/ai-system/litellm/app/ksops.yaml").is_file()
    validate_clean(output)
    for directory in kustomization_dirs(output):
        assert kustomize(directory, "--enable-alpha-plugins")  # kubectl leaves the KSOPS exec function out


# ---------------------------------------------------------------- order


@dataclass
class ArgoOrder:
    waves: dict[str, int]  # Application -> wave
    hosts: dict[str, str]  # hook app -> the Application whose PreSync phase runs it


def app_of(folder: str) -> str:
    """kubernetes/apps/<namespace>/<app>/app -> <app>."""
    return folder.rstrip("/").split("/")[-2]


def flux_depends_on(output: Path) -> dict[str, set[str]]:
    found = {}
    for ks in output.glob("kubernetes/apps/*/*/ks.yaml"):
        document = yaml.safe_load(ks.read_text())
        found[document["metadata"]["name"]] = {d["name"] for d in document["spec"].get("dependsOn", [])}
    return found


def argocd_order(output: Path) -> ArgoOrder:
    waves: dict[str, int] = {}
    hosts: dict[str, str] = {}
    for path in output.glob("argocd/apps/*.yaml"):
        application = yaml.safe_load(path.read_text())
        name = application["metadata"]["name"]
        waves[name] = int(application["metadata"]["annotations"][WAVE])
        spec = application["spec"]
        for source in spec.get("sources", [spec.get("source")]):
            if "path" not in source:
                continue
            folder = output.parent / source["path"]
            for entry in yaml.safe_load((folder / "kustomization.yaml").read_text()).get("resources", []):
                hooked = (folder / entry).resolve()
                if hooked.is_dir():
                    annotations = yaml.safe_load((hooked / "kustomization.yaml").read_text())["commonAnnotations"]
                    assert annotations[HOOK] == "PreSync"
                    hosts[app_of(str(hooked))] = name
    return ArgoOrder(waves, hosts)


def assert_same_order(flux: dict[str, set[str]], argo: ArgoOrder) -> None:
    assert set(flux) == set(argo.waves) | set(argo.hosts)
    # a hook runs in its host's PreSync phase: after the host's wave began, before the host's objects
    position = {**{a: (w, 1) for a, w in argo.waves.items()}, **{h: (argo.waves[a], 0) for h, a in argo.hosts.items()}}
    for app, deps in flux.items():
        for dep in deps:
            assert position[dep] < position[app], f"{app} depends on {dep}"
    # and no later than needed: one wave after the latest Application it waits for
    for app, wave in argo.waves.items():
        needs = set(flux[app]) - {h for h, host in argo.hosts.items() if host == app}
        needs |= {d for h, host in argo.hosts.items() if host == app for d in flux[h]}
        waited = {argo.hosts.get(n, n) for n in needs}
        assert wave == 1 + max((argo.waves[n] for n in waited), default=-1), app


@pytest.mark.parametrize(("example", "provider"), [("argocd.yaml", "sealed-secrets"), ("production.yaml", None)])
def test_sync_waves_follow_the_flux_dependency_order(tmp_path: Path, example: str, provider: str | None) -> None:
    flux = flux_depends_on(render_example(tmp_path / "flux", example, "flux", provider))
    argo = argocd_order(render_example(tmp_path / "argocd", example, "argocd", provider))
    assert argo.hosts == {"litellm-migrate": "litellm"}
    assert flux["litellm"] >= {"litellm-migrate"} and flux["litellm-migrate"] >= {"litellm-db"}
    assert_same_order(flux, argo)


def configmap(name: str, namespace: str) -> Manifest:
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}}
    return Manifest(f"{name}.yaml", "apps/documents.yaml.j2", {"documents": [document]})


def job(name: str) -> Manifest:
    document = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "web"}}
    return Manifest("job.yaml", "apps/documents.yaml.j2", {"documents": [document]}, hook="pre-sync")


def argocd_settings() -> Settings:
    external = {"vault": {"server": "https://vault.example.org", "auth": {"role": "eso"}}}
    return Settings.model_validate(
        {
            "cluster": {"name": "t", "domain": "example.org"},
            "gitops": {"engine": "argocd", "repository": "https://example.org/t.git", "path": "clusters/t"},
            "secrets": {"provider": "external-secrets", "external": external},
            "models": [{"name": "m", "provider": "openai", "model": "gpt-4o", "credential": "openai"}],
        }
    )


def test_waves_come_from_the_dependencies_and_hooks_join_their_host() -> None:
    stack = Stack(
        (
            App("operator", "ops", chart=Chart("op", "oci://ghcr.io/example/charts", "1.0.0")),
            App("db", "web", manifests=(configmap("db", "web"),), depends_on=("operator",)),
            App("migrate", "web", manifests=(job("migrate-1"),), depends_on=("db",)),
            App("web", "web", manifests=(configmap("web", "web"),), depends_on=("migrate",)),
            App(
                "route",
                "gateway",
                manifests=(configmap("route", "gateway"),),
                depends_on=("web",),
                owns_namespace=False,
            ),
        )
    )
    order = sync_order(stack)
    assert order.waves == {"operator": 0, "db": 1, "web": 2, "route": 3}
    assert order.hosts == {"migrate": "web"}
    assert order.needs["web"] == ("db",)


@pytest.mark.parametrize(
    ("apps", "message"),
    [
        (
            (App("a", "x", manifests=(configmap("a", "x"),), depends_on=("b",)), App("b", "x", depends_on=("a",))),
            "the apps depend on each other in a circle: a -> b -> a",
        ),
        (
            (
                App("migrate", "web", manifests=(job("m"),)),
                App("one", "web", depends_on=("migrate",)),
                App("two", "web", depends_on=("migrate",)),
            ),
            "app migrate holds a pre-sync hook, so exactly one app without hooks must depend on it; found: one, two",
        ),
        ((App("a", "x", depends_on=("ghost",)),), "app a depends on ghost, which the stack does not hold"),
    ],
)
def test_an_order_that_cannot_be_is_a_bug_not_a_tree(apps: tuple[App, ...], message: str) -> None:
    with pytest.raises(ClusterforgeError, match=re.escape(message)):
        sync_order(Stack(apps))


def test_a_chart_app_with_its_own_manifests_has_two_sources() -> None:
    """The chart from its repository and the app's folder from this one, in one Application."""
    settings = argocd_settings()
    assert settings.secrets.external is not None
    chart = Chart("web", "https://charts.example.org", "2.0.0", {"replicaCount": 2})
    stack = Stack((App("web", "web", manifests=(configmap("web-extra", "web"),), chart=chart),))
    files = ArgoCDEngine().layout(stack, settings, ExternalProvider(settings.secrets.external))
    texts = {f.path: f.text for f in files if isinstance(f, PlainFile)}
    application = yaml.safe_load(texts["argocd/apps/web.yaml"])
    assert application["spec"]["sources"] == [
        {
            "repoURL": "https://charts.example.org",
            "chart": "web",
            "targetRevision": "2.0.0",
            "helm": {"releaseName": "web", "valuesObject": {"replicaCount": 2}},
        },
        {
            "repoURL": "https://example.org/t.git",
            "targetRevision": "main",
            "path": "clusters/t/kubernetes/apps/web/web/app",
        },
    ]
    assert "ServerSideApply=true" in application["spec"]["syncPolicy"]["syncOptions"]
    kustomization = yaml.safe_load(texts["kubernetes/apps/web/web/app/kustomization.yaml"])
    assert kustomization["resources"] == ["./web-extra.yaml"]  # no HelmRelease: the Application names the chart


# ---------------------------------------------------------------- the migration hook


def test_the_migration_job_is_a_presync_hook_of_litellms_application(argocd_example: Path) -> None:
    assert not (argocd_example / "argocd/apps/litellm-migrate.yaml").exists()
    application = yaml.safe_load((argocd_example / "argocd/apps/litellm.yaml").read_text())
    assert application["spec"]["source"]["path"] == "output/kubernetes/apps/ai-system/litellm/app"
    built = kustomize(argocd_example / "kubernetes/apps/ai-system/litellm/app")
    hooks = {(d["kind"], d["metadata"]["name"]): d["metadata"].get("annotations", {}) for d in built}
    job = next(a for (kind, _), a in hooks.items() if kind == "Job")
    assert job[HOOK] == "PreSync"
    assert job["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    assert job[WAVE] == "1"
    finished = next(d for d in built if d["kind"] == "Job")["spec"]["ttlSecondsAfterFinished"]
    assert finished == 86400  # hooks are never pruned: each version's Job goes by itself
    # the Secret the Job reads is a hook too, in an earlier wave: it exists before the Job runs
    secret = hooks[("SealedSecret", "litellm-migrate")]
    assert secret[HOOK] == "PreSync" and WAVE not in secret
    proxy = [a for (kind, _), a in hooks.items() if kind in ("Deployment", "Service", "ConfigMap")]
    assert proxy and not [a for a in proxy if HOOK in a]


# ---------------------------------------------------------------- secrets


def settings_error(tmp_path: Path, settings: str) -> list[str]:
    (tmp_path / "cluster.yaml").write_text(settings)
    result = run_cli(tmp_path, "configure")
    assert result.exit_code == 2
    return result.stderr.splitlines()


HEAD = """\
cluster: {name: test, domain: example.org}
gitops:
  engine: ENGINE
  repository: https://example.org/test.git
models:
  - {name: gpt-4o, provider: openai, model: gpt-4o, credential: openai}
"""


def test_sealed_secrets_is_the_default_provider_of_argocd(tmp_path: Path) -> None:
    from generator.settings.load import load_settings

    (tmp_path / "flux.yaml").write_text(HEAD.replace("ENGINE", "flux"))
    assert load_settings(tmp_path / "flux.yaml").settings.secrets.provider == "sops"
    (tmp_path / "argocd.yaml").write_text(HEAD.replace("ENGINE", "argocd") + "secrets: {sealed: {cert: c.pem}}\n")
    assert load_settings(tmp_path / "argocd.yaml").settings.secrets.provider == "sealed-secrets"
    (tmp_path / "written.yaml").write_text(HEAD.replace("ENGINE", "argocd") + "secrets: {provider: sops}\n")
    assert load_settings(tmp_path / "written.yaml").settings.secrets.provider == "sops"
    assert settings_error(tmp_path, HEAD.replace("ENGINE", "argocd")) == [
        "cluster.yaml:1:1: secrets.provider: provider sealed-secrets needs a `secrets.sealed` section "
        "(the default with engine argocd; or set provider: external-secrets, or sops for KSOPS)"
    ]


def test_argocd_settings_belong_to_the_argocd_engine(tmp_path: Path) -> None:
    flux = HEAD.replace("ENGINE", "flux").replace("  repository:", "  argocd: {project: apps}\n  repository:")
    assert settings_error(tmp_path, flux) == [
        "cluster.yaml:4:3: gitops.argocd: `argocd` is for engine argocd; remove it"
    ]
    default = HEAD.replace("ENGINE", "argocd").replace("  repository:", "  argocd: {project: default}\n  repository:")
    assert settings_error(tmp_path, default + "secrets: {provider: sops}\n") == [
        "cluster.yaml:4:21: gitops.argocd.project: the default project is ArgoCD's own and allows everything; "
        "name a project clusterforge may manage"
    ]


def test_argocd_settings_name_the_namespace_project_and_cluster(tmp_path: Path, repo: Repo) -> None:
    settings = repo.config.read_text().replace(
        "gitops:\n",
        "gitops:\n  engine: argocd\n  argocd: {namespace: gitops, project: llm, destination: https://10.0.0.1:6443}\n",
    )
    repo.config.write_text(settings + "secrets: {provider: sops}\n")
    assert repo.configure().exit_code == 0
    root = {d["kind"]: d for d in yaml.safe_load_all((repo.output / "argocd/root.yaml").read_text()) if d}
    project, application = root["AppProject"], root["Application"]
    assert (project["metadata"]["name"], project["metadata"]["namespace"]) == ("llm", "gitops")
    assert {"server": "https://kubernetes.default.svc", "namespace": "gitops"} in project["spec"]["destinations"]
    assert {"server": "https://10.0.0.1:6443", "namespace": "ai-system"} in project["spec"]["destinations"]
    assert application["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "gitops"}
    litellm = yaml.safe_load((repo.output / "argocd/apps/litellm.yaml").read_text())
    assert litellm["spec"]["project"] == "llm"
    assert litellm["spec"]["destination"] == {"server": "https://10.0.0.1:6443", "namespace": "ai-system"}


def test_sops_with_argocd_goes_through_ksops(example_repo: Repo) -> None:
    """cluster.example.yaml writes provider: sops; with ArgoCD each app's Secrets get a KSOPS generator."""
    flux = example_repo.files()
    config = example_repo.config
    config.write_text(config.read_text().replace("engine: flux", "engine: argocd"))
    result = example_repo.configure()
    assert result.exit_code == 0, result.output
    assert "note: ArgoCD decrypts the *.sops.yaml Secrets with KSOPS" in result.stderr
    encrypted = sorted(example_repo.output.rglob("*.sops.yaml"))
    assert len(encrypted) == 4
    for path in encrypted:
        folder = path.parent
        generator = yaml.safe_load((folder / "ksops.yaml").read_text())
        assert generator["apiVersion"] == "viaduct.ai/v1" and generator["kind"] == "ksops"
        assert yaml.safe_load(generator["metadata"]["annotations"]["config.kubernetes.io/function"]) == {
            "exec": {"path": "ksops"}
        }
        assert generator["files"] == sorted(f"./{p.name}" for p in folder.glob("*.sops.yaml"))
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        assert kustomization["generators"] == ["./ksops.yaml"]
        assert f"./{path.name}" not in kustomization.get("resources", [])
        # the same encrypted file as under Flux: what KSOPS decrypts is what Flux would
        relative = path.relative_to(example_repo.output).as_posix()
        assert path.read_bytes() == flux[relative]
        secret = yaml.safe_load(decrypt_with_sops(path, example_repo.root / "tests" / "demo" / "age.key"))
        assert secret["kind"] == "Secret" and secret["stringData"]
    # without the plugin a repo-server cannot build these folders: that is the setup the note asks for
    proc = subprocess.run(
        ["kubectl", "kustomize", str(example_repo.output / "kubernetes/apps/ai-system/litellm/app")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "ksops" in proc.stderr


# ---------------------------------------------------------------- switching engines


def test_switching_flux_argocd_flux_returns_the_tree_byte_for_byte(example_repo: Repo) -> None:
    original = example_repo.files()
    assert original == tree_bytes(ROOT / "output")
    config = example_repo.config
    flux_settings = config.read_text()
    config.write_text(flux_settings.replace("engine: flux", "engine: argocd"))
    assert example_repo.configure().exit_code == 0
    argocd = example_repo.files()
    assert not [p for p in argocd if FLUX_ONLY.search(p) or p.startswith("kubernetes/flux/")]
    # the shared manifests stay where they are, byte for byte; only the folders' kustomizations differ
    shared = {p for p in original if p.startswith("kubernetes/apps/") and "/app/" in p and not FLUX_ONLY.search(p)}
    shared -= {p for p in shared if p.endswith("kustomization.yaml")}
    assert shared and {p: argocd[p] for p in shared} == {p: original[p] for p in shared}
    assert any(p.startswith("argocd/") for p in argocd)
    config.write_text(flux_settings)
    assert example_repo.configure().exit_code == 0
    assert example_repo.files() == original
    assert not list(example_repo.output.rglob("argocd"))


def test_switching_engines_leaves_files_clusterforge_did_not_write(example_repo: Repo) -> None:
    mine = example_repo.output / "kubernetes/apps/ai-system/litellm/app/notes.yaml"
    mine.write_text("# my own notes\n")
    bootstrap = example_repo.output / "kubernetes/flux/cluster/flux-system/gotk-sync.yaml"
    bootstrap.parent.mkdir()
    bootstrap.write_text("# committed by flux bootstrap\n")
    config = example_repo.config
    config.write_text(config.read_text().replace("engine: flux", "engine: argocd"))
    assert example_repo.configure().exit_code == 0
    assert mine.read_text() == "# my own notes\n" and bootstrap.is_file()
    assert not (example_repo.output / "kubernetes/flux/cluster/ks.yaml").exists()


if __name__ == "__main__":
    write_golden()
    sys.stdout.write(f"rendered {GOLDEN.relative_to(ROOT)}\n")
