"""`clusterforge validate` on ArgoCD repositories: KSOPS generators, `$values` refs, AppProjects,
ApplicationSet templates, and where configure mounts an ArgoCD tree."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.validate.rendered import mount_point
from tests.conftest import make_repo, run_cli

REPO_URL = "https://github.com/example/fleet.git"
KSOPS = """\
apiVersion: viaduct.ai/v1
kind: ksops
metadata:
  name: secrets
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: {path}
files:
{files}
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:1.0.0
          env:
            - name: PASSWORD
              valueFrom:
                secretKeyRef: {name: db, key: KEY}
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: web
type: Opaque
stringData:
  password: hunter2-but-longer
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))


LOCATIONS: list[str] = []


@pytest.fixture(autouse=True)
def _test_schemas(extracted_schemas: Path) -> None:
    """ApplicationSet is not bundled (clusterforge renders none): its schema comes from a CRD written for the tests."""
    LOCATIONS[:] = ["--schema-location", str(extracted_schemas)]


def validate(root: Path, *args: str) -> list[str]:
    result = run_cli(root, "validate", ".", "--repo-root", ".", "--repo-url", REPO_URL, *LOCATIONS, *args)
    return result.output.splitlines()


def kustomization(*, resources: list[str], generators: list[str] | None = None) -> str:
    text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
    text += "".join(f"  - {r}\n" for r in resources)
    if generators:
        text += "generators:\n" + "".join(f"  - {g}\n" for g in generators)
    return text


@pytest.fixture
def encrypted_secret(tmp_path: Path) -> str:
    """A Secret encrypted by the real sops, as clusterforge renders them (data and stringData only)."""
    repo = make_repo(tmp_path / "keys")
    return repo.secrets_file.sops.encrypt(SECRET.encode(), "secret.sops.yaml").decode()


def ksops_app(root: Path, secret: str, key: str, *, path: str = "ksops", files: str = "  - ./secret.sops.yaml") -> None:
    write(
        root,
        {
            "apps/web/kustomization.yaml": kustomization(resources=["./deployment.yaml"], generators=["./ksops.yaml"]),
            "apps/web/ksops.yaml": KSOPS.format(path=path, files=files),
            "apps/web/deployment.yaml": DEPLOYMENT.replace("KEY", key),
            "apps/web/secret.sops.yaml": secret,
        },
    )


def test_a_ksops_folder_is_built_and_its_encrypted_secret_checked(tmp_path: Path, encrypted_secret: str) -> None:
    """The build runs (the Deployment is checked from it) and the Secret the generator names is known."""
    ksops_app(tmp_path / "repo", encrypted_secret, "password")
    assert validate(tmp_path / "repo", "--strict") == [
        "0 errors, 0 warnings in 4 files (2 resources, 1 kustomization built)"
    ]
    (tmp_path / "other").mkdir()
    ksops_app(tmp_path / "other", encrypted_secret, "pasword")
    assert validate(tmp_path / "other") == [
        "apps/web/deployment.yaml:19: Deployment/web/web: spec.template.spec.containers[0].env[0].valueFrom."
        "secretKeyRef: Secret/web/db has no key 'pasword' (it has: password)",
        "1 error, 0 warnings in 4 files (2 resources, 1 kustomization built)",
    ]


def test_an_encrypted_secret_is_checked_against_its_schema(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "keys")
    broken = SECRET.replace("type: Opaque", "type: Opaque\nimmutable: sometimes")
    encrypted = repo.secrets_file.sops.encrypt(broken.encode(), "secret.sops.yaml").decode()
    ksops_app(tmp_path / "repo", encrypted, "password")
    lines = validate(tmp_path / "repo")
    assert lines[0].startswith("apps/web/secret.sops.yaml:7: Secret/web/db: immutable:"), lines
    assert lines[-1].startswith("1 error")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ("  - ./nope.sops.yaml", "apps/web/ksops.yaml:10: KSOPS file ./nope.sops.yaml does not exist"),
        (
            "  - ./deployment.yaml",
            "apps/web/ksops.yaml:10: ./deployment.yaml is also a resource of the kustomization: "
            "it would be applied still encrypted",
        ),
        ("  - ./plain.yaml", "apps/web/ksops.yaml:10: ./plain.yaml is not sops-encrypted: KSOPS cannot decrypt it"),
    ],
)
def test_ksops_generators_are_checked(tmp_path: Path, encrypted_secret: str, files: str, message: str) -> None:
    ksops_app(tmp_path, encrypted_secret, "password", files=files)
    (tmp_path / "apps/web/plain.yaml").write_text(SECRET)
    assert message in validate(tmp_path)


def test_no_program_a_repository_names_is_run(tmp_path: Path, encrypted_secret: str) -> None:
    """A KSOPS config whose exec path is a script: kubectl's kustomize runs no exec function."""
    marker = tmp_path / "ran"
    script = tmp_path / "repo/apps/web/evil.sh"
    ksops_app(tmp_path / "repo", encrypted_secret, "password", path="./evil.sh")
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    assert validate(tmp_path / "repo")[-1].startswith("0 errors")
    assert not marker.exists()


def test_other_plugins_keep_plugins_off(tmp_path: Path, encrypted_secret: str) -> None:
    """A generator that is not KSOPS (here a legacy exec plugin): the build fails and says why."""
    ksops_app(tmp_path, encrypted_secret, "password")
    kustomization_file = tmp_path / "apps/web/kustomization.yaml"
    kustomization_file.write_text(kustomization_file.read_text() + "  - ./other.yaml\n")
    write(tmp_path, {"apps/web/other.yaml": "apiVersion: example.com/v1\nkind: Generator\nmetadata: {name: x}\n"})
    lines = validate(tmp_path)
    assert any("kustomize build failed" in line and "external plugins disabled" in line for line in lines), lines


def test_a_ksops_secret_from_files_is_known_by_name_and_keys(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "apps/web/kustomization.yaml": kustomization(resources=["./deployment.yaml"], generators=["./ksops.yaml"]),
            "apps/web/ksops.yaml": KSOPS.format(path="ksops", files="  []").replace(
                "files:\n  []\n",
                "secretFrom:\n  - metadata: {name: db, namespace: web}\n    files:\n      - password=./pw.enc\n",
            ),
            "apps/web/deployment.yaml": DEPLOYMENT.replace("KEY", "passwd"),
        },
    )
    assert validate(tmp_path)[:1] == [
        "apps/web/deployment.yaml:19: Deployment/web/web: spec.template.spec.containers[0].env[0].valueFrom."
        "secretKeyRef: Secret/web/db has no key 'passwd' (it has: password)"
    ]


APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
spec:
  project: PROJECT
  destination:
    server: https://kubernetes.default.svc
    namespace: web
  sources:
    - repoURL: https://charts.example.com
      chart: web
      targetRevision: 1.0.0
      helm:
        valueFiles:
          - VALUES
    - repoURL: https://github.com/example/fleet.git
      targetRevision: main
      ref: values
"""
PROJECT = """\
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: apps
  namespace: argocd
spec:
  sourceRepos:
    - https://github.com/example/fleet
    - https://charts.example.com
  destinations:
    - server: https://kubernetes.default.svc
      namespace: "!kube-*"
    - server: https://kubernetes.default.svc
      namespace: "*"
"""


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ("$values/values/web.yaml", None),
        (
            "$values/values/wbe.yaml",
            "spec.sources[0].helm.valueFiles[0]: value file $values/values/wbe.yaml does not "
            "exist: values/wbe.yaml is not in the repository",
        ),
        (
            "$config/values/web.yaml",
            "spec.sources[0].helm.valueFiles[0]: $config names a source with ref: config, "
            "and the Application has no source with it",
        ),
    ],
)
def test_values_refs_resolve(tmp_path: Path, values: str, expected: str | None) -> None:
    write(
        tmp_path,
        {
            "argocd/web.yaml": APPLICATION.replace("PROJECT", "default").replace("VALUES", values),
            "values/web.yaml": "replicas: 2\n",
        },
    )
    lines = validate(tmp_path)
    if expected is None:
        assert lines[-1].startswith("0 errors"), lines
    else:
        assert lines[0] == f"argocd/web.yaml:17: Application/argocd/web: {expected}", lines


def test_a_values_ref_needs_several_sources(tmp_path: Path) -> None:
    single = APPLICATION.replace("PROJECT", "default").replace("VALUES", "$values/values/web.yaml")
    single = single.replace("  sources:\n    - repoURL: https://charts", "  source:\n    repoURL: https://charts")
    single = single.split("    - repoURL: https://github.com")[0]
    single = "\n".join(line.removeprefix("  ") if line.startswith("      ") else line for line in single.splitlines())
    write(tmp_path, {"argocd/web.yaml": single + "\n"})
    assert (
        "argocd/web.yaml:17: Application/argocd/web: spec.source.helm.valueFiles[0]: $values names a source with "
        "ref: values, and the Application has a single source (refs need spec.sources) with it"
    ) in validate(tmp_path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ((), None),
        (
            ("PROJECT", "other"),
            "argocd/web.yaml:7: Application/argocd/web: spec.project: AppProject other does not "
            "exist (the repository has apps)",
        ),
        (
            ("https://charts.example.com\n      chart", "https://charts.elsewhere.com\n      chart"),
            "argocd/web.yaml:12: Application/argocd/web: spec.sources[0].repoURL: "
            "AppProject apps does not allow source https://charts.elsewhere.com",
        ),
        (
            ("namespace: web", "namespace: kube-system"),
            "argocd/web.yaml:8: Application/argocd/web: spec.destination: "
            "AppProject apps does not allow namespace 'kube-system' on https://kubernetes.default.svc",
        ),
    ],
)
def test_applications_stay_within_their_project(tmp_path: Path, change: tuple[str, str], expected: str | None) -> None:
    application = APPLICATION.replace("VALUES", "$values/values/web.yaml")
    if change:
        application = application.replace(*change)
    application = application.replace("PROJECT", "apps")
    write(tmp_path, {"argocd/web.yaml": application, "argocd/project.yaml": PROJECT, "values/web.yaml": "a: 1\n"})
    lines = validate(tmp_path)
    if expected is None:
        assert lines[-1].startswith("0 errors"), lines
    else:
        assert lines[0] == expected, lines


@pytest.mark.parametrize(
    ("document", "typo", "expected"),
    [
        (
            APPLICATION.replace("PROJECT", "default").replace("VALUES", "$values/values/web.yaml"),
            ("  destination:", "  destinaton:"),
            "argocd/doc.yaml:8: Application/argocd/web: spec.destinaton: unknown field (not in the schema)",
        ),
        (
            PROJECT,
            ("  sourceRepos:", "  sourceRepo:"),
            "argocd/doc.yaml:7: AppProject/argocd/apps: spec.sourceRepo: unknown field (not in the schema)",
        ),
    ],
)
def test_argocd_kinds_are_checked_against_their_schemas(
    tmp_path: Path, document: str, typo: tuple[str, str], expected: str
) -> None:
    write(tmp_path, {"argocd/doc.yaml": document.replace(*typo)})
    assert expected in validate(tmp_path)


def test_applicationset_template_paths_exist_unless_templated(tmp_path: Path) -> None:
    template = """\
    apiVersion: argoproj.io/v1alpha1
    kind: ApplicationSet
    metadata:
      name: apps
      namespace: argocd
    spec:
      generators:
        - list:
            elements:
              - name: web
      template:
        metadata:
          name: "{{name}}"
        spec:
          project: default
          destination:
            server: https://kubernetes.default.svc
            namespace: "{{name}}"
          source:
            repoURL: https://github.com/example/fleet.git
            targetRevision: main
            path: PATH
    """
    write(tmp_path, {"argocd/set.yaml": template.replace("PATH", "apps/missing"), "argocd/templated.yaml": ""})
    lines = validate(tmp_path)
    assert lines[0] == (
        "argocd/set.yaml:22: ApplicationSet/argocd/apps: spec.template.spec.source.path: apps/missing "
        "does not exist in the repository"
    ), lines
    write(tmp_path, {"argocd/set.yaml": template.replace("PATH", "'apps/{{name}}'")})
    assert validate(tmp_path)[-1].startswith("0 errors")


def test_configure_mounts_an_argocd_tree_where_its_applications_say() -> None:
    application = b"""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  sources:
    - {repoURL: oci.example.com/charts, chart: web, targetRevision: 1.0.0}
    - {repoURL: https://example.com/x.git, path: clusters/prod/kubernetes/apps/web/app}
"""
    tree = {"argocd/apps/web.yaml": application, "kubernetes/apps/web/app/kustomization.yaml": b"resources: []\n"}
    assert mount_point(tree) == "clusters/prod"
