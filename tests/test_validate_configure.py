"""configure validates the rendered tree (schemas, kustomize, references) before it writes anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.engines.flux import FluxEngine
from generator.outputs import OutputFile, PlainFile
from generator.validate.rendered import mount_point
from tests.conftest import ROOT, Repo, run_cli, tree_bytes

WIDGET_CRD = ROOT / "tests" / "fixtures" / "crds" / "widgets.example.org.yaml"
APP = "kubernetes/apps/ai-system/litellm/app"

READS_A_MISSING_SECRET = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: extra
  namespace: ai-system
spec:
  selector:
    matchLabels: {app: extra}
  template:
    metadata:
      labels: {app: extra}
    spec:
      containers:
        - name: extra
          image: busybox:1.37
          envFrom:
            - secretRef:
                name: no-such-secret
"""

HELMRELEASE_WITH_A_TYPO = """\
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: extra
  namespace: ai-system
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: cloudnative-pg
    namespace: cnpg-system
  intervall: 5m
"""

WIDGET_WITH_A_TYPO = """\
---
apiVersion: example.org/v1
kind: Widget
metadata:
  name: gear
  namespace: ai-system
spec:
  size: small
  sise: large
"""


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLUSTERFORGE_SCHEMA_LOCATION", raising=False)


def render_also(monkeypatch: pytest.MonkeyPatch, path: str, text: str) -> None:
    """The Flux engine lays out one file more than it would: a stray manifest beside LiteLLM's."""
    real = FluxEngine.layout

    def layout(self: FluxEngine, *args: object, **kwargs: object) -> list[OutputFile]:
        return [*real(self, *args, **kwargs), PlainFile(path, text)]  # type: ignore[arg-type]

    monkeypatch.setattr(FluxEngine, "layout", layout)


def test_configure_refuses_a_tree_that_fails_validation(example_repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree_bytes(example_repo.output)
    assert before
    render_also(monkeypatch, f"{APP}/extra.yaml", READS_A_MISSING_SECRET)
    result = example_repo.configure()
    assert result.exit_code == 1
    assert (
        f"output/{APP}/extra.yaml:19: Deployment/ai-system/extra: spec.template.spec.containers[0].envFrom[0]"
        ".secretRef: Secret/ai-system/no-such-secret does not exist" in result.stderr
    )
    assert "the rendered tree does not validate (1 error(s)); nothing was written" in result.stderr
    assert tree_bytes(example_repo.output) == before


def test_configure_checks_every_kind_of_the_example_against_the_bundled_schemas(example_repo: Repo) -> None:
    result = example_repo.configure("--output", str(example_repo.root / "fresh"))
    assert result.exit_code == 0, result.output
    assert "no schema checked" not in result.stderr


def test_configure_refuses_a_crd_object_the_bundled_schema_refuses(
    example_repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    render_also(monkeypatch, f"{APP}/extra.yaml", HELMRELEASE_WITH_A_TYPO)
    result = example_repo.configure("--output", str(example_repo.root / "checked"))
    assert result.exit_code == 1
    assert "HelmRelease/ai-system/extra: spec.intervall: unknown field (not in the schema)" in result.stderr
    assert not (example_repo.root / "checked").exists()


def test_kinds_without_a_schema_are_named_and_schemas_from_the_environment_are_enforced(
    example_repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    render_also(monkeypatch, f"{APP}/widget.yaml", WIDGET_WITH_A_TYPO)
    offline = example_repo.configure("--output", str(example_repo.root / "offline"))
    assert offline.exit_code == 0, offline.output  # no schema for Widget: a warning only
    warning = next(line for line in offline.stderr.splitlines() if line.startswith("warning: no schema checked"))
    assert "Widget (example.org/v1)" in warning
    assert "`clusterforge schemas extract`" in warning
    extracted = run_cli(tmp_path, "schemas", "extract", str(WIDGET_CRD), "--output", "schemas")
    assert extracted.exit_code == 0, extracted.output
    monkeypatch.setenv("CLUSTERFORGE_SCHEMA_LOCATION", str(tmp_path / "schemas"))
    checked = example_repo.configure("--output", str(example_repo.root / "checked"))
    assert checked.exit_code == 1
    assert "Widget/ai-system/gear: spec.sise: unknown field (not in the schema)" in checked.stderr
    assert "warning: no schema checked" not in checked.stderr
    assert not (example_repo.root / "checked").exists()


def test_the_tree_is_placed_where_its_flux_paths_say() -> None:
    tree = {p.relative_to(ROOT / "output").as_posix(): p.read_bytes() for p in (ROOT / "output").rglob("*.yaml")}
    assert mount_point(tree) == "output"
