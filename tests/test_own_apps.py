"""Your own apps in the same tree: charts declared under `apps:` and folders written by hand, with both
engines: what is rendered, that the whole tree validates (--strict, app-template's values schema),
that the secrets reach the cluster only through the provider, that removing an app removes only its
generated files, and the bad input that is refused before anything is written."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
import yaml_rs

from generator.secrets.values import json_string
from generator.settings.load import load_settings
from generator.userapps.values import chart_schemas
from tests.conftest import BASE_SECRETS, EXAMPLE_FILES, ROOT, Repo, git, make_repo
from tests.test_argocd import demo_controller_key, unsealed
from tests.test_validate import LOCATIONS as CRD_LOCATIONS

# the schema locations the other tests use (tests/test_validate.py says where they come from); the tests
# that check values against upstream's app-template 4.1.1 schema put its location first (app_template_env)
LOCATIONS = tuple(CRD_LOCATIONS)
SCHEMA_ENV = ",".join(LOCATIONS[1::2])  # the same, as CLUSTERFORGE_SCHEMA_LOCATION for configure
REPOSITORY = "https://github.com/example/home-ops.git"
APPS = "kubernetes/apps"

SECRETS = {
    **BASE_SECRETS,
    "anthropic": "sk-ant-example-4b4b4b",
    # what Helm's --set parser would break: a comma, quotes, a backslash, and text that reads as a number
    "whoami_token": "to,k\"en\\1'",
    "grafana_admin_password": "123",
}

OWN_APPS = """
apps:
  # an OCI chart, its values in a file beside the settings
  - name: echo
    namespace: echo
    chart:
      repository: oci://ghcr.io/bjw-s-labs/helm
      name: app-template
      version: 4.1.1
    values: echo.values.yaml
    depends_on: [litellm]
  # an HTTPS chart reading a Secret the secrets provider makes from the secrets file
  - name: whoami
    namespace: web
    chart:
      repository: https://bjw-s-labs.github.io/helm-charts
      name: app-template
      version: 4.1.1
    secrets:
      whoami-auth:
        TOKEN: whoami_token
    values:
      controllers:
        main:
          containers:
            main:
              image: {repository: traefik/whoami, tag: v1.10.3}
              env:
                WHOAMI_TOKEN:
                  valueFrom:
                    secretKeyRef: {name: whoami-auth, key: TOKEN}
      service:
        main:
          controller: main
          ports:
            http: {port: 80}
"""

ECHO_VALUES = """\
controllers:
  main:
    containers:
      main:
        image:
          repository: ghcr.io/mendhak/http-https-echo
          tag: "37"
service:
  main:
    controller: main
    ports:
      http:
        port: 8080
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  greeting: hello
"""


def flux_app(name: str, namespace: str, depends_on: str | None = None) -> dict[str, str]:
    """A Flux app folder as people write it (cluster-template's layout): ks.yaml and app/."""
    needs = f"  dependsOn:\n    - name: {depends_on}\n" if depends_on else ""
    ks = (
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\nspec:\n{needs}  interval: 1h\n"
        f"  path: ./output/{APPS}/{namespace}/{name}/app\n  prune: true\n  targetNamespace: {namespace}\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
    return {
        f"{APPS}/{namespace}/{name}/ks.yaml": ks,
        f"{APPS}/{namespace}/{name}/app/kustomization.yaml": "resources:\n  - ./configmap.yaml\n",
        f"{APPS}/{namespace}/{name}/app/configmap.yaml": CONFIGMAP.format(name=name),
    }


# an app folder in a namespace clusterforge renders (web, whoami's), and a namespace folder of one's own
OWN_FLUX = {
    **flux_app("hello", "web", depends_on="litellm"),
    f"{APPS}/media/kustomization.yaml": "resources:\n  - ./namespace.yaml\n  - ./notes/ks.yaml\n",
    f"{APPS}/media/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: media\n",
    **flux_app("notes", "media"),
}

# an Application of one's own, and the folder it deploys
OWN_ARGOCD = {
    "argocd/apps/notes.yaml": f"""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: notes
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: "5"
spec:
  project: clusterforge
  destination:
    server: https://kubernetes.default.svc
    namespace: media
  source:
    repoURL: {REPOSITORY}
    targetRevision: main
    path: output/{APPS}/media/notes/app
  syncPolicy:
    automated: {{prune: true, selfHeal: true}}
    syncOptions: [CreateNamespace=true]
""",
    f"{APPS}/media/notes/app/kustomization.yaml": "resources:\n  - ./configmap.yaml\n",
    f"{APPS}/media/notes/app/configmap.yaml": CONFIGMAP.format(name="notes"),
}


def example_settings(engine: str, apps: str = OWN_APPS) -> str:
    """cluster.example.yaml as a user's repository has it (no demo paths), on ``engine``, with ``apps``."""
    text = (ROOT / "cluster.example.yaml").read_text()
    text = re.sub(r"(?ms)^  # demo-only.*?# end demo-only\n", "", text)
    text = re.sub(r"(?ms)^# demo-only.*?# end demo-only\n", "models: models.example.yaml\n", text)
    text = text.replace("  engine: flux\n", f"  engine: {engine}\n")
    if engine == "argocd":  # the engine's default provider, sealed with the public demo controller key
        text = text.replace("  provider: sops\n", "  provider: sealed-secrets\n  sealed: {cert: sealed-secrets.pem}\n")
    assert f"engine: {engine}" in text and REPOSITORY in text
    return text + apps


def own_apps_repo(root: Path, engine: str, apps: str = OWN_APPS, own: dict[str, str] | None = None) -> Repo:
    repo = make_repo(root, example_settings(engine, apps), SECRETS)
    shutil.copy(ROOT / EXAMPLE_FILES[1], root / EXAMPLE_FILES[1])
    shutil.copy(ROOT / "tests" / "demo" / "sealed-secrets.pem", root / "sealed-secrets.pem")
    (root / "echo.values.yaml").write_text(ECHO_VALUES)
    write_files(repo.output, own if own is not None else OWN_FLUX if engine == "flux" else OWN_ARGOCD)
    git(root, "init", "-q")
    git(root, "remote", "add", "origin", REPOSITORY)
    return repo


def write_files(base: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (base / path).parent.mkdir(parents=True, exist_ok=True)
        (base / path).write_text(text)


@pytest.fixture
def schema_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure checks values and CRDs against the same locations validate is given below."""
    monkeypatch.setenv("CLUSTERFORGE_SCHEMA_LOCATION", SCHEMA_ENV)


@pytest.fixture
def app_template_env(monkeypatch: pytest.MonkeyPatch, app_template_location: tuple[str, str]) -> Path:
    """As schema_env, upstream's app-template 4.1.1 values schema first; its location."""
    monkeypatch.setenv("CLUSTERFORGE_SCHEMA_LOCATION", f"{app_template_location[1]},{SCHEMA_ENV}")
    return Path(app_template_location[1])


def configured(repo: Repo, *args: str) -> str:
    result = repo.configure(*args)
    assert result.exit_code == 0, result.output
    return str(result.output)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def document(path: Path) -> dict[str, Any]:
    (only,) = documents(path)
    return only


def resources(path: Path) -> list[str]:
    return list(document(path)["resources"])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Repo]]:
    """The example plus the three apps, once with each engine."""
    repos = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLUSTERFORGE_SCHEMA_LOCATION", SCHEMA_ENV)
        for engine in ("flux", "argocd"):
            repo = own_apps_repo(tmp_path_factory.mktemp(engine) / "repo", engine)
            configured(repo)
            repos[engine] = repo
    yield repos


# ---------------------------------------------------------------- the example plus three apps


@pytest.mark.parametrize("engine", ["flux", "argocd"])
def test_the_example_with_own_apps_passes_validate_strict(rendered: dict[str, Repo], engine: str) -> None:
    repo = rendered[engine]
    result = repo.cli("validate", "output", "--strict", *LOCATIONS)
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output


@pytest.mark.parametrize("engine", ["flux", "argocd"])
def test_validate_checks_the_apps_values_against_the_app_template_schema(
    rendered: dict[str, Repo], engine: str, tmp_path: Path, app_template_location: tuple[str, str]
) -> None:
    """The same tree with one wrong value: validate finds it through the app-template schema location."""
    copy = tmp_path / "copy"
    shutil.copytree(rendered[engine].root, copy)
    target = (
        copy / "output" / (f"{APPS}/echo/echo/app/helmrelease.yaml" if engine == "flux" else "argocd/apps/echo.yaml")
    )
    target.write_text(re.sub(r"(?m)^( *)tag: '37'$", r"\g<0>\n\1pullPolicy: Sometimes", target.read_text()))
    result = Repo(copy).cli("validate", "output", "--strict", *app_template_location, *LOCATIONS)
    assert result.exit_code == 1, result.output
    assert '"Sometimes" is not one of "Always", "IfNotPresent" or "Never" (chart app-template 4.1.1' in result.output


def test_flux_renders_each_chart_as_the_operators_are(rendered: dict[str, Repo]) -> None:
    out = rendered["flux"].output
    oci = document(out / f"{APPS}/echo/echo/app/ocirepository.yaml")
    assert oci["spec"]["url"] == "oci://ghcr.io/bjw-s-labs/helm/app-template"
    assert oci["spec"]["ref"] == {"tag": "4.1.1"}
    echo = document(out / f"{APPS}/echo/echo/app/helmrelease.yaml")
    assert echo["spec"]["chartRef"] == {"kind": "OCIRepository", "name": "echo"}
    assert echo["spec"]["values"] == yaml.safe_load(ECHO_VALUES)
    assert echo["spec"]["install"]["crds"] == echo["spec"]["upgrade"]["crds"] == "CreateReplace"
    assert document(out / f"{APPS}/echo/echo/ks.yaml")["spec"]["dependsOn"] == [{"name": "litellm"}]
    https = document(out / f"{APPS}/web/whoami/app/helmrepository.yaml")
    assert https["spec"]["url"] == "https://bjw-s-labs.github.io/helm-charts"
    whoami = document(out / f"{APPS}/web/whoami/app/helmrelease.yaml")
    assert whoami["spec"]["chart"]["spec"] == {
        "chart": "app-template",
        "version": "4.1.1",
        "sourceRef": {"kind": "HelmRepository", "name": "whoami"},
    }
    assert "valuesFrom" not in whoami["spec"]
    assert document(out / f"{APPS}/echo/namespace.yaml")["metadata"]["name"] == "echo"


def test_flux_secrets_of_apps_are_sops_encrypted_and_open_to_the_secrets_file_values(rendered: dict[str, Repo]) -> None:
    repo = rendered["flux"]
    path = repo.output / f"{APPS}/web/whoami/app/whoami-auth.sops.yaml"
    assert SECRETS["whoami_token"] not in path.read_text()
    secret = yaml.safe_load(repo.decrypt(path))
    assert secret["metadata"] == {
        "name": "whoami-auth",
        "namespace": "web",
        "labels": {"app.kubernetes.io/name": "whoami", "app.kubernetes.io/managed-by": "clusterforge"},
    }
    assert secret["stringData"] == {"TOKEN": SECRETS["whoami_token"]}
    assert "./whoami-auth.sops.yaml" in resources(repo.output / f"{APPS}/web/whoami/app/kustomization.yaml")


def test_flux_entry_points_take_in_the_folders_of_ones_own(rendered: dict[str, Repo]) -> None:
    out = rendered["flux"].output
    assert resources(out / f"{APPS}/kustomization.yaml") == [
        "./ai-system",
        "./cnpg-system",
        "./dragonfly-operator-system",
        "./echo",
        "./media",
        "./web",
    ]
    assert resources(out / f"{APPS}/web/kustomization.yaml") == [
        "./namespace.yaml",
        "./hello/ks.yaml",
        "./whoami/ks.yaml",
    ]
    for path, text in OWN_FLUX.items():
        assert (out / path).read_text() == text  # never written into


def test_argocd_renders_each_chart_as_an_application_in_its_wave(rendered: dict[str, Repo]) -> None:
    out = rendered["argocd"].output
    echo = document(out / "argocd/apps/echo.yaml")
    litellm = document(out / "argocd/apps/litellm.yaml")
    wave = "argocd.argoproj.io/sync-wave"
    assert int(echo["metadata"]["annotations"][wave]) == int(litellm["metadata"]["annotations"][wave]) + 1
    assert echo["spec"]["source"] == {
        "repoURL": "ghcr.io/bjw-s-labs/helm",
        "chart": "app-template",
        "targetRevision": "4.1.1",
        "helm": {"releaseName": "echo", "valuesObject": yaml.safe_load(ECHO_VALUES)},
    }
    whoami = document(out / "argocd/apps/whoami.yaml")
    chart, folder = whoami["spec"]["sources"]
    assert chart["repoURL"] == "https://bjw-s-labs.github.io/helm-charts" and chart["chart"] == "app-template"
    assert folder == {"repoURL": REPOSITORY, "targetRevision": "main", "path": f"output/{APPS}/web/whoami/app"}
    assert "CreateNamespace=true" in whoami["spec"]["syncPolicy"]["syncOptions"]


def test_argocd_secrets_of_apps_are_sealed_and_open_to_the_secrets_file_values(rendered: dict[str, Repo]) -> None:
    path = rendered["argocd"].output / f"{APPS}/web/whoami/app/whoami-auth.sealed.yaml"
    opened = unsealed(path.read_text(), demo_controller_key())
    assert f"TOKEN: <opens to {SECRETS['whoami_token']!r}>" in opened


def test_argocd_project_admits_the_applications_of_ones_own(rendered: dict[str, Repo]) -> None:
    out = rendered["argocd"].output
    project = documents(out / "argocd/root.yaml")[0]
    assert project["kind"] == "AppProject"
    namespaces = {d["namespace"] for d in project["spec"]["destinations"]}
    assert {"echo", "web", "media"} <= namespaces
    assert {"ghcr.io/bjw-s-labs/helm", "https://bjw-s-labs.github.io/helm-charts"} <= set(
        project["spec"]["sourceRepos"]
    )
    for path, text in OWN_ARGOCD.items():
        assert (out / path).read_text() == text


@pytest.mark.parametrize("engine", ["flux", "argocd"])
def test_configure_again_changes_nothing(rendered: dict[str, Repo], engine: str, tmp_path: Path) -> None:
    """The fast path and the full path (no record) agree: the same bytes, secrets included."""
    copy = tmp_path / "copy"
    shutil.copytree(rendered[engine].root, copy)
    repo = Repo(copy)
    before = repo.files()
    assert "0 created, 0 changed" in configured(repo)
    (copy / ".clusterforge" / "cluster.yaml.state.json").unlink()  # the full path (the sealed record stays)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLUSTERFORGE_SCHEMA_LOCATION", SCHEMA_ENV)
        assert "0 created, 0 changed" in configured(repo)
    assert repo.files() == before


# ---------------------------------------------------------------- adding and removing


@pytest.mark.parametrize("engine", ["flux", "argocd"])
def test_removing_apps_removes_their_generated_files_and_leaves_ones_own(
    tmp_path: Path, engine: str, schema_env: None
) -> None:
    repo = own_apps_repo(tmp_path / "repo", engine)
    configured(repo)
    own = OWN_FLUX if engine == "flux" else OWN_ARGOCD
    before = repo.files()
    repo.config.write_text(example_settings(engine, apps=""))
    output = configured(repo)
    after = repo.files()
    gone = sorted(set(before) - set(after))
    assert gone and all("/echo" in p or "/whoami" in p or p == f"{APPS}/web/namespace.yaml" for p in gone), gone
    assert not [p for p in after if "/echo/" in p or "whoami" in p]
    assert {p: after[p] for p in own} == {p: before[p] for p in own}  # byte for byte
    assert f"remove  output/{APPS}/echo/echo/app/helmrelease.yaml" in output or engine == "argocd"
    if engine == "flux":  # web is no namespace of clusterforge's any more: only the folder of one's own is listed
        assert resources(repo.output / f"{APPS}/web/kustomization.yaml") == ["./hello/ks.yaml"]
        assert not (repo.output / f"{APPS}/echo").exists()
    else:
        assert not (repo.output / "argocd/apps/echo.yaml").exists()
        project = documents(repo.output / "argocd/root.yaml")[0]
        assert "media" in {d["namespace"] for d in project["spec"]["destinations"]}
    result = repo.cli("validate", "output", "--strict", *LOCATIONS)
    assert result.exit_code == 0, result.output


def test_removing_an_app_a_folder_of_ones_own_depends_on_refuses_the_tree(tmp_path: Path, schema_env: None) -> None:
    """The folders of one's own are validated with the generated tree before anything is written."""
    repo = own_apps_repo(tmp_path / "repo", "flux", own={**OWN_FLUX, **flux_app("hello", "web", depends_on="whoami")})
    configured(repo)
    before = repo.files()
    repo.config.write_text(example_settings("flux", apps=OWN_APPS.split("  # an HTTPS chart", maxsplit=1)[0]))
    result = repo.configure()
    assert result.exit_code == 1, result.output
    assert (
        f"output/{APPS}/web/hello/ks.yaml:9: Kustomization/flux-system/hello: spec.dependsOn[0]: "
        "Kustomization/flux-system/whoami does not exist"
    ) in result.stderr
    assert repo.files() == before


def test_a_folder_added_by_hand_is_taken_in_on_the_next_configure(tmp_path: Path, schema_env: None) -> None:
    """Even when nothing else changed: the record of the last run knows the folders of one's own."""
    repo = own_apps_repo(tmp_path / "repo", "flux")
    configured(repo)
    assert "0 created, 0 changed" in configured(repo)
    write_files(repo.output, flux_app("later", "tools"))
    output = configured(repo)
    assert "0 created, 0 changed" not in output
    assert resources(repo.output / f"{APPS}/tools/kustomization.yaml") == ["./later/ks.yaml"]
    assert not (repo.output / f"{APPS}/tools/namespace.yaml").exists()  # a namespace no app of clusterforge's uses
    assert "./tools" in resources(repo.output / f"{APPS}/kustomization.yaml")
    shutil.rmtree(repo.output / f"{APPS}/tools/later")
    configured(repo)
    assert not (repo.output / f"{APPS}/tools").exists()
    assert "./tools" not in resources(repo.output / f"{APPS}/kustomization.yaml")


def test_a_changed_values_file_is_rendered_and_secrets_list_shows_the_apps_secrets(
    tmp_path: Path, schema_env: None
) -> None:
    repo = own_apps_repo(tmp_path / "repo", "flux", own={})
    configured(repo)
    (repo.root / "echo.values.yaml").write_text(ECHO_VALUES.replace('"37"', '"38"'))
    assert f"change  output/{APPS}/echo/echo/app/helmrelease.yaml" in configured(repo)
    listed = repo.cli("secrets", "list")
    assert listed.exit_code == 0, listed.output
    row = line_of(repo.config.read_text(), "        TOKEN: whoami_token")
    assert re.search(
        rf"^whoami_token +present +cluster.yaml:{row} apps\[1\].secrets.whoami-auth.TOKEN$", listed.output, re.M
    )


def test_files_of_ones_own_that_nothing_applies_get_a_note(tmp_path: Path, schema_env: None) -> None:
    repo = own_apps_repo(tmp_path / "repo", "flux")
    write_files(repo.output, {f"{APPS}/web/stray/deployment.yaml": "kind: ConfigMap\n"})
    result = repo.configure()
    assert result.exit_code == 0, result.output
    assert (
        f"note: output/{APPS}/web/stray/: 1 file(s) of your own; nothing applies them "
        "(an app folder of your own needs a ks.yaml) (README: Your own apps)"
    ) in result.stderr


def test_an_app_behind_litellms_default_deny_policies_gets_a_warning(tmp_path: Path, schema_env: None) -> None:
    apps = OWN_APPS.replace("namespace: web", "namespace: ai-system") + "network_policies:\n  enabled: true\n"
    repo = own_apps_repo(tmp_path / "repo", "flux", apps=apps, own={})
    result = repo.configure()
    assert result.exit_code == 0, result.output
    row = line_of(repo.config.read_text(), "    namespace: ai-system")
    assert (
        f"cluster.yaml:{row}:16: apps[1].namespace: warning: namespace ai-system has clusterforge's default-deny "
        "network policies: the app's pods get no traffic in or out until you add policies for them"
    ) in result.stderr.splitlines()


def test_switching_engines_keeps_the_folders_of_ones_own(tmp_path: Path, schema_env: None) -> None:
    repo = own_apps_repo(tmp_path / "repo", "flux")
    configured(repo)
    own = {p: (repo.output / p).read_bytes() for p in OWN_FLUX}
    repo.config.write_text(example_settings("argocd"))
    result = repo.configure()
    assert result.exit_code == 0, result.output
    assert {p: (repo.output / p).read_bytes() for p in OWN_FLUX} == own
    assert f"note: output/{APPS}/web/hello/: 1 file(s) of your own" in result.stderr


# ---------------------------------------------------------------- values from the secrets file, CRDs, namespaces

SECRET_VALUES_APP = """
apps:
  - name: grafana
    namespace: monitoring
    chart:
      repository: https://grafana.github.io/helm-charts
      name: grafana
      version: 9.2.10
    crds: skip
    values:
      admin: {existingSecret: ""}
    secret_values:
      adminPassword: grafana_admin_password
      env:
        TOKEN: whoami_token
"""


def test_flux_takes_values_from_the_secrets_file_through_a_secret(tmp_path: Path, schema_env: None) -> None:
    repo = own_apps_repo(tmp_path / "repo", "flux", apps=SECRET_VALUES_APP, own={})
    configured(repo)
    app = repo.output / f"{APPS}/monitoring/grafana/app"
    release = document(app / "helmrelease.yaml")["spec"]
    assert release["valuesFrom"] == [{"kind": "Secret", "name": "grafana-secret-values", "valuesKey": "values.yaml"}]
    assert release["install"]["crds"] == release["upgrade"]["crds"] == "Skip"
    text = (app / "grafana-secret-values.sops.yaml").read_text()
    assert SECRETS["whoami_token"] not in text and "grafana_admin_password" not in text
    secret = yaml.safe_load(repo.decrypt(app / "grafana-secret-values.sops.yaml"))
    assert secret["metadata"]["labels"]["reconcile.fluxcd.io/watch"] == "Enabled"  # a new value upgrades the release
    values = secret["stringData"]["values.yaml"]
    expected = {"adminPassword": "123", "env": {"TOKEN": SECRETS["whoami_token"]}}
    # Helm reads a values document as YAML: the JSON document is one, with the same strings (types too)
    assert yaml_rs.loads(values) == yaml.safe_load(values) == json.loads(values) == expected


def test_external_secrets_template_the_values_document(tmp_path: Path) -> None:
    settings = example_settings("flux", SECRET_VALUES_APP).replace(
        "secrets:\n  provider: sops\n",
        "secrets:\n  provider: external-secrets\n"
        "  external: {vault: {server: https://vault.example.com, auth: {role: external-secrets}}}\n",
    )
    repo = make_repo(tmp_path / "repo", settings, SECRETS)
    shutil.copy(ROOT / EXAMPLE_FILES[1], repo.root / EXAMPLE_FILES[1])
    configured(repo)
    external = document(repo.output / f"{APPS}/monitoring/grafana/app/grafana-secret-values.externalsecret.yaml")
    template = external["spec"]["target"]["template"]["data"]["values.yaml"]
    assert (
        template
        == '{"adminPassword":{{ .grafana_admin_password | toJson }},"env":{"TOKEN":{{ .whoami_token | toJson }}}}'
    )
    assert {d["secretKey"]: d["remoteRef"]["key"] for d in external["spec"]["data"]} == {
        "grafana_admin_password": "litellm/grafana_admin_password",
        "whoami_token": "litellm/whoami_token",
    }


@pytest.mark.parametrize(
    "value", ["plain", "a,b", '"quoted"', "back\\slash", "true", "0123", "tab\tnew\nline", "\x7f\x85é€🙂"]
)
def test_a_json_string_is_the_same_text_to_a_yaml_reader(value: str) -> None:
    text = json_string(value)
    assert json.loads(text) == yaml.safe_load(text) == yaml_rs.loads(text) == value


def test_argocd_skips_crds_and_never_renders_system_namespaces(tmp_path: Path, schema_env: None) -> None:
    apps = """
apps:
  - name: cilium-extras
    namespace: kube-system
    chart: {repository: oci://ghcr.io/bjw-s-labs/helm, name: app-template, version: 4.1.1}
    crds: skip
  - name: tools
    namespace: tools
    create_namespace: false
    chart: {repository: oci://ghcr.io/bjw-s-labs/helm, name: app-template, version: 4.1.1}
"""
    repo = own_apps_repo(tmp_path / "repo", "argocd", apps=apps, own={})
    configured(repo)
    extras = document(repo.output / "argocd/apps/cilium-extras.yaml")["spec"]
    assert extras["source"]["helm"]["skipCrds"] is True
    assert "CreateNamespace=true" not in extras["syncPolicy"]["syncOptions"]
    assert "managedNamespaceMetadata" not in extras["syncPolicy"]
    assert (
        "CreateNamespace=true"
        not in document(repo.output / "argocd/apps/tools.yaml")["spec"]["syncPolicy"]["syncOptions"]
    )


# ---------------------------------------------------------------- refused before anything is written


def refused(repo: Repo) -> str:
    before = repo.files()
    result = repo.configure()
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert repo.files() == before
    return str(result.stderr)


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_values_the_chart_schema_refuses_are_located_errors(tmp_path: Path, app_template_env: Path) -> None:
    schema = chart_schemas().for_chart("app-template", "4.1.1")
    assert schema.where == str(app_template_env / "charts/app-template/4.1.1/values.schema.json")
    apps = OWN_APPS.replace("tag: v1.10.3}", "tag: v1.10.3, pullPolicy: Sometimes}").replace(
        "            http: {port: 80}", "            http: {port: 80, protocl: TCP}"
    )
    repo = own_apps_repo(tmp_path / "repo", "flux", apps=apps, own={})
    (repo.root / "echo.values.yaml").write_text(ECHO_VALUES.replace('tag: "37"', 'tag: "37"\n        probs: {}'))
    text = repo.config.read_text()
    image = line_of(text, "              image: {repository: traefik/whoami, tag: v1.10.3, pullPolicy: Sometimes}")
    port = line_of(text, "            http: {port: 80, protocl: TCP}")
    why = "(chart app-template 4.1.1 values schema)"
    assert refused(repo).splitlines() == [
        f"cluster.yaml:{image}:77: apps[1].values.controllers.main.containers.main.image.pullPolicy: "
        f'"Sometimes" is not one of "Always", "IfNotPresent" or "Never" {why}',
        f"cluster.yaml:{port}:30: apps[1].values.service.main.ports.http.protocl: unknown field (not in the schema) "
        f"{why}",
        f"echo.values.yaml:8:9: apps[0].values.controllers.main.containers.main.probs: unknown field (not in the "
        f"schema) {why}",
    ]


def test_a_value_from_the_secrets_file_at_a_path_the_schema_lacks_is_refused(
    tmp_path: Path, app_template_env: Path
) -> None:
    apps = (
        OWN_APPS
        + "    secret_values:\n      controllers: {main: {containers: {main: {image: {tagg: whoami_token}}}}}\n"
    )
    repo = own_apps_repo(tmp_path / "repo", "flux", apps=apps, own={})
    row = line_of(
        repo.config.read_text(), "      controllers: {main: {containers: {main: {image: {tagg: whoami_token}}}}}"
    )
    assert refused(repo).splitlines() == [
        f"cluster.yaml:{row}:56: apps[1].secret_values.controllers.main.containers.main.image.tagg: unknown field "
        "(not in the schema) (chart app-template 4.1.1 values schema)"
    ]


DEMO_APP = """
apps:
  - name: demo
    namespace: demo
    chart:
      repository: oci://ghcr.io/example/charts
      name: demo-app
      version: 1.0.0
    values:
      controllers:
        main:
          replicas: two
          containers:
            main:
              image: {repository: ghcr.io/example/demo, tag: "1"}
    secret_values:
      controllers: {main: {containers: {main: {image: {tagg: whoami_token}}}}}
"""


def test_values_are_checked_against_the_chart_schema_the_locations_hold(tmp_path: Path, schema_env: None) -> None:
    """The mechanism, on the tests' own chart schema (tests/fixtures/schemas/charts/demo-app/1.0.0): values
    and values from the secrets file are checked, each wrong one at its line, nothing written."""
    repo = own_apps_repo(tmp_path / "repo", "flux", apps=DEMO_APP, own={})
    text = repo.config.read_text()
    replicas = line_of(text, "          replicas: two")
    tagg = line_of(text, "      controllers: {main: {containers: {main: {image: {tagg: whoami_token}}}}}")
    why = "(chart demo-app 1.0.0 values schema)"
    assert refused(repo).splitlines() == [
        f'cluster.yaml:{replicas}:21: apps[0].values.controllers.main.replicas: "two" is not of types "null", '
        f'"integer" {why}',
        f"cluster.yaml:{tagg}:56: apps[0].secret_values.controllers.main.containers.main.image.tagg: unknown field "
        f"(not in the schema) {why}",
    ]
    fixed = text.replace("replicas: two", "replicas: 2").replace(
        "{image: {tagg: whoami_token}}", "{env: {TOKEN: whoami_token}}"
    )
    repo.config.write_text(fixed)
    result = repo.configure()
    assert result.exit_code == 0, result.output


# (engine, what the settings change from -> to, the changed line, its column and what follows the key path)
REFUSED_AGAINST_THE_TREE = {
    "a secret missing from the secrets file": (
        "flux",
        ("TOKEN: whoami_token", "TOKEN: whoami_tokn"),
        "        TOKEN: whoami_tokn",
        "16: apps[1].secrets.whoami-auth.TOKEN: secret 'whoami_tokn' (a secret of app whoami) is missing from "
        "cluster.secrets.sops.yaml; add it with `clusterforge secrets set whoami_tokn`",
    ),
    "a namespace folder of one's own": (
        "flux",
        ("namespace: web", "namespace: media"),
        "    namespace: media",
        f"16: apps[1].namespace: output/{APPS}/media/ is a namespace folder of your own (its own kustomization), "
        "which clusterforge never writes into: choose another namespace",
    ),
    "the name of an app folder of one's own": (
        "flux",
        ("name: whoami", "name: hello"),
        "  - name: hello",
        f"11: apps[1].name: output/{APPS}/web/hello/ is an app folder of your own",
    ),
    "the name of an Application of one's own": (
        "argocd",
        ("name: whoami", "name: notes"),
        "  - name: notes",
        "11: apps[1].name: 'notes' names your Application in output/argocd/apps/notes.yaml",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_AGAINST_THE_TREE))
def test_settings_that_clash_with_the_tree_or_the_secrets_are_located_errors(tmp_path: Path, case: str) -> None:
    engine, (before, after), line, expected = REFUSED_AGAINST_THE_TREE[case]
    repo = own_apps_repo(tmp_path / "repo", engine, apps=OWN_APPS.replace(before, after))
    assert refused(repo) == f"cluster.yaml:{line_of(repo.config.read_text(), line)}:{expected}\n"


def test_a_namespace_folder_of_ones_own_where_clusterforge_renders_is_refused(tmp_path: Path) -> None:
    repo = own_apps_repo(tmp_path / "repo", "flux", own={f"{APPS}/ai-system/kustomization.yml": "resources: []\n"})
    assert refused(repo) == (
        f"output/{APPS}/ai-system/: a namespace folder of your own (its own kustomization), but clusterforge renders "
        "litellm, litellm-cache, litellm-db, litellm-migrate into namespace ai-system: put your apps in app folders "
        "there (each with a ks.yaml) and remove your kustomization, or use another namespace\n"
    )


# ---------------------------------------------------------------- Renovate


def renovate_managers() -> list[dict[str, Any]]:
    """The custom managers the README's "Your own apps" section gives for renovate.json."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Your own apps", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block is not None
    managers: list[dict[str, Any]] = json.loads(block.group(1))["customManagers"]
    return managers


def extracted(managers: list[dict[str, Any]], path: str, text: str) -> list[dict[str, str]]:
    """What Renovate's regex manager finds: its patterns (ECMAScript/RE2 named groups) run by Python's re,
    its triple-brace templates filled from the named groups."""
    found = []
    for manager in managers:
        patterns = [re.compile(p.strip("/")) for p in manager["managerFilePatterns"]]
        if not any(p.search(path) for p in patterns):
            continue
        for match_string in manager["matchStrings"]:
            for match in re.finditer(match_string.replace("(?<", "(?P<"), text):
                groups = match.groupdict()
                template = manager.get("depNameTemplate", "{{{depName}}}")
                found.append(
                    {
                        "datasource": manager.get("datasourceTemplate") or groups["datasource"],
                        "depName": re.sub(r"\{\{\{(\w+)\}\}\}", lambda m, g=groups: g[m.group(1)], template),
                        "currentValue": groups["currentValue"],
                        "registryUrl": groups.get("registryUrl") or "",
                    }
                )
    return found


def test_renovate_finds_every_chart_of_a_real_cluster_yaml(rendered: dict[str, Repo]) -> None:
    # and a quoted version, as some people write it
    text = rendered["flux"].config.read_text() + SECRET_VALUES_APP.replace("apps:\n", "").replace("9.2.10", '"9.2.10"')
    found = sorted(extracted(renovate_managers(), "cluster.yaml", text), key=lambda d: d["depName"])
    bjw_s = "https://bjw-s-labs.github.io/helm-charts"
    assert found == [
        {"datasource": "helm", "depName": "app-template", "currentValue": "4.1.1", "registryUrl": bjw_s},
        {
            "datasource": "docker",
            "depName": "ghcr.io/bjw-s-labs/helm/app-template",
            "currentValue": "4.1.1",
            "registryUrl": "",
        },
        {
            "datasource": "helm",
            "depName": "grafana",
            "currentValue": "9.2.10",
            "registryUrl": "https://grafana.github.io/helm-charts",
        },
    ]
    assert extracted(renovate_managers(), "generator/versions.yaml", text) == []
    # nothing else in the settings looks like a chart to it
    assert extracted(renovate_managers(), "cluster.yaml", example_settings("flux", "")) == []


def test_the_readme_example_loads_and_renovate_reads_its_comments(tmp_path: Path) -> None:
    """The `apps:` example of the README is valid settings, and the managers read past its comments."""
    readme = (ROOT / "README.md").read_text().split("## Your own apps", 1)[1]
    block = re.search(r"```yaml\n(apps:\n.*?)```", readme, re.S)
    assert block is not None
    (tmp_path / "cluster.yaml").write_text(example_settings("flux", "\n" + block.group(1)))
    shutil.copy(ROOT / EXAMPLE_FILES[1], tmp_path / EXAMPLE_FILES[1])
    (tmp_path / "echo.values.yaml").write_text(ECHO_VALUES)
    apps = load_settings(tmp_path / "cluster.yaml").settings.apps
    found = extracted(renovate_managers(), "clusters/prod/cluster.yaml", block.group(1))
    assert sorted((d["depName"], d["currentValue"]) for d in found) == sorted(
        (
            f"{a.chart.repository.removeprefix('oci://')}/{a.chart.name}" if a.chart.is_oci else a.chart.name,
            a.chart.version,
        )
        for a in apps
    )


HOSTILE_KS = {
    "aliases": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    ),
    "huge number": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: x\n"
    f"spec:\n  interval: {'9' * 5000}\n",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_KS))
def test_a_hostile_ks_yaml_of_ones_own_is_reported_never_a_crash(tmp_path: Path, case: str) -> None:
    """configure reads the ks.yaml files of one's own folders to take them in: read as validate reads them."""
    repo = own_apps_repo(tmp_path / "repo", "flux", own={})
    configured(repo)
    before = repo.files()
    write_files(repo.output, {f"{APPS}/web/evil/ks.yaml": HOSTILE_KS[case], f"{APPS}/web/evil/app/cm.yaml": "x: 1\n"})
    result = repo.configure()
    assert result.exit_code in (1, 2), (result.exit_code, result.output, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert f"output/{APPS}/web/evil/ks.yaml:" in result.stderr
    assert repo.files() == {**before, **{k: v for k, v in repo.files().items() if "/evil/" in k}}
