"""`clusterforge validate`: the rendered example, options, exit codes, schema locations, engines."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from generator.validate.model import MissingSchemas, Options
from generator.validate.run import validate
from tests.conftest import CHART_SCHEMAS as LOCATIONS
from tests.conftest import FIXTURE_SCHEMAS, ROOT, git, kubeconform_program, run_cli

BROKEN = ROOT / "tests" / "validate" / "broken"
VALID = ROOT / "tests" / "validate" / "valid"
REPO_URL = "https://github.com/example/fleet"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test downloads into, and derives schemas in, a cache of its own."""
    monkeypatch.setenv("CLUSTERFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLUSTERFORGE_SCHEMA_LOCATION", raising=False)


def copy_case(name: str, into: Path) -> Path:
    source = BROKEN / name if (BROKEN / name).is_dir() else VALID / name
    target = into / name
    shutil.copytree(source, target)
    (target / "expect").unlink(missing_ok=True)
    return target


def finding_lines(output: str) -> list[str]:
    return [line for line in output.splitlines()[:-1] if not line.startswith("not checked against a schema:")]


def test_rendered_example_passes_clean() -> None:
    result = run_cli(ROOT, "validate", "output", "--strict", "--output", "json", *LOCATIONS)
    report = json.loads(result.output)
    assert report["findings"] == []
    assert result.exit_code == 0
    summary = report["summary"]
    assert summary["unchecked"] == {}  # every kind, Flux and operator CRDs included, met its schema
    assert summary["kustomizations"] >= 9
    assert summary["resources"] >= 20


def test_rendered_example_is_validated_through_its_kustomizations(tmp_path: Path) -> None:
    """A defect in a file of the example is found in the build and pointed back at the file."""
    shutil.copytree(ROOT / "output", tmp_path / "output")
    deployment = tmp_path / "output/kubernetes/apps/ai-system/litellm/app/deployment.yaml"
    lines = deployment.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip().startswith("replicas:"))
    lines[number] = lines[number].split(":")[0] + ": many"
    deployment.write_text("\n".join(lines) + "\n")
    result = run_cli(tmp_path, "validate", "output", "--repo-root", ".", *LOCATIONS)
    assert finding_lines(result.output) == [
        f"output/kubernetes/apps/ai-system/litellm/app/deployment.yaml:{number + 1}: Deployment/ai-system/litellm: "
        'spec.replicas: "many" is not of types "null", "integer"'
    ]
    assert result.exit_code == 1


def test_json_output_lists_each_finding() -> None:
    case = BROKEN / "35-secretkeyref-missing-key"
    result = run_cli(case, "validate", ".", "--output", "json", "--repo-root", ".", *LOCATIONS)
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert report["ok"] is False
    assert report["findings"] == [
        {
            "file": "deployment.yaml",
            "line": 21,
            "resource": "Deployment/apps/web",
            "severity": "error",
            "message": "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef: "
            "Secret/apps/db-credentials has no key 'pasword' (it has: password, username)",
        }
    ]
    assert report["summary"]["errors"] == 1


def test_warnings_fail_only_with_strict() -> None:
    case = BROKEN / "55-networkpolicy-selects-nothing"
    relaxed = run_cli(case, "validate", ".", *LOCATIONS)
    strict = run_cli(case, "validate", ".", "--strict", *LOCATIONS)
    assert relaxed.exit_code == 0
    assert strict.exit_code == 1
    assert "0 errors, 1 warning" in relaxed.output


def test_missing_schemas_can_be_ignored() -> None:
    case = BROKEN / "14-missing-schema"
    result = run_cli(case, "validate", ".", "--ignore-missing-schemas", *LOCATIONS)
    assert result.exit_code == 0
    assert "not checked against a schema: Certificate (cert-manager.io/v1) (1)" in result.output


def test_the_bundled_schemas_check_crd_kinds_without_any_location() -> None:
    result = run_cli(VALID / "argocd-apps", "validate", ".", "--repo-root", ".", "--repo-url", REPO_URL)
    assert result.exit_code == 0, result.output
    assert "not checked" not in result.output


def test_without_the_bundled_schemas_crd_kinds_are_errors_that_say_what_to_do() -> None:
    result = run_cli(
        VALID / "argocd-apps", "validate", ".", "--repo-root", ".", "--repo-url", REPO_URL, "--no-bundled-schemas"
    )
    assert result.exit_code == 1
    assert "no schema for Application (argoproj.io/v1alpha1)" in result.output
    assert "`clusterforge schemas extract CRD.yaml --output DIR`" in result.output
    assert "`--ignore-missing-schemas`" in result.output


def test_the_bundled_schemas_come_before_other_locations(tmp_path: Path) -> None:
    """A location's schema for a bundled kind is not used: here one that takes anything."""
    anything = tmp_path / "anything" / "source.toolkit.fluxcd.io"
    anything.mkdir(parents=True)
    (anything / "ocirepository_v1.json").write_text("{}")
    case = BROKEN / "12-crd-unknown-field"
    expected = [(case / "expect").read_text().strip()]
    location = ("--schema-location", str(tmp_path / "anything"))
    assert finding_lines(run_cli(case, "validate", ".", *location).output) == expected
    lenient = run_cli(case, "validate", ".", *location, "--no-bundled-schemas")
    assert lenient.exit_code == 0, lenient.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nowhere",), "nowhere: no such file or folder"),
        ((".", "--kubernetes-version", "1.99"), "kubernetes version 1.99: no bundled schemas"),
        ((".", "--kubernetes-version", "latest"), "expected MAJOR.MINOR"),
        ((".", "--schema-location", "missing-folder"), "schema location 'missing-folder': no such folder"),
        ((".", "--schema-location", "https://x/{{.Kind}}.json"), "unknown template variable(s) Kind"),
        ((".", "--output", "yaml"), "Invalid value for '--output'"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run_cli(BROKEN / "01-yaml-syntax", "validate", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_kubernetes_version_picks_the_core_schemas() -> None:
    case = BROKEN / "16-removed-api"  # autoscaling/v2beta2 went away in 1.26
    assert run_cli(case, "validate", ".", "--kubernetes-version", "1.25").exit_code == 0
    assert run_cli(case, "validate", ".", "--kubernetes-version", "1.32").exit_code == 1


def test_kubernetes_version_defaults_to_cluster_yaml(tmp_path: Path) -> None:
    case = copy_case("16-removed-api", tmp_path)
    assert run_cli(case, "validate", ".").exit_code == 1  # no cluster.yaml: 1.32
    (case / "cluster.yaml").write_text('cluster:\n  name: test\n  kubernetes_version: "1.25"\n')
    result = run_cli(case, "validate", "hpa.yaml")
    assert result.exit_code == 0, result.output


def test_default_path_is_the_configured_output(tmp_path: Path) -> None:
    case = copy_case("07-core-wrong-type", tmp_path)
    (case / "cluster.yaml").write_text("gitops:\n  path: .\n")
    result = run_cli(case, "validate")
    assert 'spec.replicas: "two"' in result.output
    assert result.exit_code == 1


def test_schema_location_from_the_environment(monkeypatch: pytest.MonkeyPatch, extracted_schemas: Path) -> None:
    case = BROKEN / "12-crd-unknown-field"
    monkeypatch.setenv("CLUSTERFORGE_SCHEMA_LOCATION", f"{extracted_schemas / 'charts'},{extracted_schemas}")
    result = run_cli(case, "validate", ".", "--no-bundled-schemas")
    assert finding_lines(result.output) == [(case / "expect").read_text().strip()]


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet: the test output is not for the server's log


@pytest.fixture
def schema_server(extracted_schemas: Path) -> Iterator[tuple[str, list[str]]]:
    """Schemas extracted at test time served over HTTP on the loopback address; and the paths requested."""
    requests: list[str] = []
    handler = type("Handler", (CountingHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(extracted_schemas)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def test_url_template_downloads_once_then_works_offline(schema_server: tuple[str, list[str]]) -> None:
    base, requests = schema_server
    template = base + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
    case = BROKEN / "11-crd-wrong-type"
    expected = [(case / "expect").read_text().strip()]
    first = run_cli(case, "validate", ".", "--schema-location", template, "--no-bundled-schemas")
    assert finding_lines(first.output) == expected
    assert requests == ["/source.toolkit.fluxcd.io/helmrepository_v1.json"]
    again = run_cli(case, "validate", ".", "--schema-location", template, "--no-bundled-schemas")
    assert finding_lines(again.output) == expected
    assert len(requests) == 1  # the second run read the cached download


def test_url_base_finds_chart_values_schemas_and_their_references(schema_server: tuple[str, list[str]]) -> None:
    base, requests = schema_server
    case = BROKEN / "22-helmrelease-values-schema"
    result = run_cli(case, "validate", ".", "--schema-location", base, "--no-bundled-schemas")
    assert finding_lines(result.output) == [(case / "expect").read_text().strip()]
    assert "/charts/demo-app/1.0.0/values.schema.json" in requests
    assert "/charts/demo-app/1.0.0/schemas/controllers.json" in requests  # a $ref, fetched beside it


def test_unreachable_location_is_an_error_in_validate_and_a_warning_for_configure(tmp_path: Path) -> None:
    case = BROKEN / "11-crd-wrong-type"
    closed = "http://127.0.0.1:9/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"  # discard port
    strict = validate([case], Options(schema_locations=(closed,), cache_dir=tmp_path / "c1", bundled_schemas=False))
    relaxed = validate(
        [case],
        Options(
            schema_locations=(closed,),
            cache_dir=tmp_path / "c2",
            missing_schemas=MissingSchemas.WARNING,
            bundled_schemas=False,
        ),
    )
    assert [f.severity.value for f in strict.findings] == ["error"]
    assert [f.severity.value for f in relaxed.findings] == ["warning"]
    assert "helmrepository_v1.json" in strict.findings[0].message  # says what could not be had
    assert relaxed.unchecked == {"HelmRepository (source.toolkit.fluxcd.io/v1)": 1}


def test_secret_values_are_never_shown(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: apps\n"
        "stringData:\n  password: [hunter2-is-the-password]\n"
    )
    result = run_cli(tmp_path, "validate", ".")
    assert result.exit_code == 1
    assert "secret.yaml:7: Secret/apps/db: stringData.password: must be of type null or string" in result.output
    assert "hunter2" not in result.output


def test_paths_of_other_repositories_are_not_checked(tmp_path: Path) -> None:
    repo = tmp_path / "fleet"
    (repo / "argocd").mkdir(parents=True)
    git(repo, "init", "-q")
    git(repo, "remote", "add", "origin", "git@github.com:example/fleet.git")
    application = (BROKEN / "57-argocd-source-path-missing/argocd/web.yaml").read_text()
    (repo / "argocd/web.yaml").write_text(application)
    (repo / "argocd/other.yaml").write_text(
        application.replace("name: web", "name: other").replace("example/fleet", "example/elsewhere")
    )
    result = run_cli(repo, "validate", ".", *LOCATIONS)  # the repository and its URL found from .git
    assert finding_lines(result.output) == [
        "argocd/web.yaml:14: Application/argocd/web: spec.source.path: apps/wbe does not exist in the repository"
    ]


def broken_tree(root: Path, apps: int) -> None:
    """``apps`` copies of a Deployment, its Service and ConfigMap, every 7th app reading a key nobody writes."""
    documents = []
    for n in range(apps):
        key = "MISSING" if n % 7 == 0 else "LOG_LEVEL"
        documents.append(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{n}\n  namespace: ns-{n % 5}\n"
            "data:\n  LOG_LEVEL: info\n"
        )
        documents.append(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{n}\n  namespace: ns-{n % 5}\n"
            f"spec:\n  selector:\n    matchLabels: {{app: app-{n}}}\n  template:\n    metadata:\n"
            f"      labels: {{app: app-{n}}}\n    spec:\n      containers:\n        - name: app\n"
            f"          image: nginx:1.27\n          env:\n            - name: LEVEL\n              valueFrom:\n"
            f"                configMapKeyRef: {{name: app-{n}, key: {key}}}\n"
        )
        documents.append(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: app-{n}\n  namespace: ns-{n % 5}\n"
            f"spec:\n  replicas: 1\n  selector: {{app: app-{n}}}\n  ports: [{{port: 80}}]\n"
        )
    for start in range(0, len(documents), 30):
        (root / f"part-{start // 30:03d}.yaml").write_text("---\n" + "---\n".join(documents[start : start + 30]))


def test_worker_processes_find_what_one_process_finds(tmp_path: Path) -> None:
    broken_tree(tmp_path, 120)
    serial = validate([tmp_path], Options(jobs=1, cache_dir=tmp_path / "c1"))
    parallel = validate([tmp_path], Options(jobs=3, cache_dir=tmp_path / "c2"))
    assert parallel.findings == serial.findings
    assert len(serial.findings) == 120 + 18  # every Service's unknown field, every 7th Deployment's key
    assert serial.resources == parallel.resources == 360


def test_kubeconform_engine_reports_into_the_same_report() -> None:
    kubeconform_program()
    case = BROKEN / "07-core-wrong-type"
    result = run_cli(case, "validate", ".", "--engine", "kubeconform", *LOCATIONS)
    assert result.exit_code == 1
    assert "deployment.yaml:7: Deployment/apps/web: spec.replicas:" in result.output
    assert "(kubeconform)" in result.output
    clean = run_cli(ROOT, "validate", "output", "--engine", "kubeconform", *LOCATIONS)
    assert clean.exit_code == 0, clean.output
    assert "not checked" not in clean.output  # kubeconform found every CRD kind in the bundled schemas


@pytest.mark.parametrize("case", ["11-crd-wrong-type", "12-crd-unknown-field"])
def test_kubeconform_reads_the_bundled_crd_schemas(case: str) -> None:
    """The real kubeconform takes the bundled files (draft-04, type lists, closed objects) as they are."""
    kubeconform_program()
    result = run_cli(BROKEN / case, "validate", ".", "--engine", "kubeconform", "--output", "json")
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert report["summary"]["unchecked"] == {}
    messages = [finding["message"] for finding in report["findings"]]
    assert any(message.endswith("(kubeconform)") for message in messages), messages


def test_kubeconform_engine_needs_the_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no kubeconform there, whatever the machine has
    result = run_cli(BROKEN / "07-core-wrong-type", "validate", ".", "--engine", "kubeconform")
    assert result.exit_code == 2
    assert "`kubeconform` is not on PATH" in result.output


@pytest.mark.parametrize("wrong", [[1], "text", {"unexpected": {"shape": 1}}, None])
def test_malformed_objects_are_findings_never_crashes(tmp_path: Path, wrong: object) -> None:
    """Every field under every object's spec (and its data) of the valid corpus given the wrong shape."""
    import yaml

    for number, source in enumerate(sorted(VALID.rglob("*.yaml"))):
        if source.name == "kustomization.yaml":
            continue
        documents = [d for d in yaml.safe_load_all(source.read_text()) if isinstance(d, dict)]
        for document in documents:
            for section in ("spec", "data", "stringData"):
                if isinstance(document.get(section), dict):
                    document[section] = {key: wrong for key in document[section]}
        (tmp_path / f"{number:02d}-{source.name}").write_text(yaml.safe_dump_all(documents))
    report = validate([tmp_path], Options(schema_locations=(str(FIXTURE_SCHEMAS),), repo_root=tmp_path))
    assert report.resources > 20
    assert report.errors > 0 or wrong is None
