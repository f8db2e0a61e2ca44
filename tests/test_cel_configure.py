"""configure's pre-write check evaluates the CEL rules too: a tree the API server would refuse is not written."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.engines.flux import FluxEngine
from generator.outputs import OutputFile, PlainFile
from tests.conftest import CRD_SCHEMAS, Repo, tree_bytes

APP = "kubernetes/apps/ai-system/litellm/app"

HELMRELEASE_WITH_CHART_AND_CHART_REF = """\
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: extra
  namespace: ai-system
spec:
  interval: 1h
  chart:
    spec:
      chart: cloudnative-pg
      sourceRef:
        kind: HelmRepository
        name: cloudnative-pg
        namespace: cnpg-system
  chartRef:
    kind: OCIRepository
    name: cloudnative-pg
    namespace: cnpg-system
"""


@pytest.fixture(autouse=True)
def _schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CLUSTERFORGE_SCHEMA_LOCATION", str(CRD_SCHEMAS))


def test_configure_refuses_a_tree_that_breaks_a_cel_rule(example_repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree_bytes(example_repo.output)
    real = FluxEngine.layout

    def layout(self: FluxEngine, *args: object, **kwargs: object) -> list[OutputFile]:
        extra = PlainFile(f"{APP}/extra.yaml", HELMRELEASE_WITH_CHART_AND_CHART_REF)
        return [*real(self, *args, **kwargs), extra]  # type: ignore[arg-type]

    monkeypatch.setattr(FluxEngine, "layout", layout)
    result = example_repo.configure()
    assert result.exit_code == 1
    assert (
        f"output/{APP}/extra.yaml:8: HelmRelease/ai-system/extra: spec: either chart or chartRef must be set "
        "(rule: (has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef)))"
    ) in result.stderr
    assert tree_bytes(example_repo.output) == before


def test_the_rendered_example_passes_every_cel_rule(example_repo: Repo) -> None:
    result = example_repo.configure("--output", str(example_repo.root / "fresh"))
    assert result.exit_code == 0, result.output
    assert "rule" not in result.stderr
