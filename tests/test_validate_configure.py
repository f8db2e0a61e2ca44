"""configure validates the rendered tree (schemas, kustomize, references) before it writes anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.engines.flux import FluxEngine
from generator.outputs import OutputFile, PlainFile
from generator.validate.rendered import mount_point
from tests.conftest import ROOT, Repo, tree_bytes

CRDS = ROOT.parent / "shared" / "schemas" / "crds"
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


def test_offline_configure_names_the_kinds_left_unchecked(example_repo: Repo) -> None:
    result = example_repo.configure("--output", str(example_repo.root / "fresh"))
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning: no schema checked"))
    for kind in ("HelmRelease (helm.toolkit.fluxcd.io/v2)", "Kustomization (kustomize.toolkit.fluxcd.io/v1)"):
        assert kind in warning


def test_crd_schemas_from_the_environment_are_enforced(example_repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    render_also(monkeypatch, f"{APP}/extra.yaml", HELMRELEASE_WITH_A_TYPO)
    offline = example_repo.configure("--output", str(example_repo.root / "offline"))
    assert offline.exit_code == 0, offline.output  # the HelmRelease schema cannot be had: a warning only
    assert "HelmRelease (helm.toolkit.fluxcd.io/v2)" in offline.stderr
    monkeypatch.setenv("CLUSTERFORGE_SCHEMA_LOCATION", str(CRDS))
    checked = example_repo.configure("--output", str(example_repo.root / "checked"))
    assert checked.exit_code == 1
    assert "HelmRelease/ai-system/extra: spec.intervall: unknown field (not in the schema)" in checked.stderr
    assert "warning: no schema checked" not in checked.stderr
    assert not (example_repo.root / "checked").exists()


def test_the_tree_is_placed_where_its_flux_paths_say() -> None:
    tree = {p.relative_to(ROOT / "output").as_posix(): p.read_bytes() for p in (ROOT / "output").rglob("*.yaml")}
    assert mount_point(tree) == "output"
