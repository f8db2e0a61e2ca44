"""Security scan: checkov over the rendered manifests of the everything-on example.

Needs a `checkov` executable (CLUSTERFORGE_CHECKOV_BIN, else PATH); CI installs it in its own
venv and sets CLUSTERFORGE_REQUIRE_CHECKOV=1, which turns a missing one into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, run_cli

CHECKOV = os.environ.get("CLUSTERFORGE_CHECKOV_BIN") or shutil.which("checkov")
if CHECKOV is None:
    if os.environ.get("CLUSTERFORGE_REQUIRE_CHECKOV") == "1":
        raise RuntimeError("the security scan needs checkov")
    pytest.skip("checkov is not installed", allow_module_level=True)

SUPPRESSIONS = ROOT / "tests" / "checkov" / "suppressions.yaml"


def scan(directory: Path, *, with_suppressions: bool) -> dict[str, Any]:
    argv = [str(CHECKOV), "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--skip-download", "--quiet"]
    if with_suppressions:
        argv += ["--config-file", str(SUPPRESSIONS)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    report = data[0] if isinstance(data, list) else data
    return dict(report)


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("production") / "output"
    result = run_cli(ROOT, "configure", "--config", "examples/production.yaml", "--output", str(out))
    assert result.exit_code == 0, result.output
    return out / "kubernetes"


def test_no_failed_checks_beyond_the_listed_suppressions(production: Path) -> None:
    report = scan(production, with_suppressions=True)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert summary["passed"] > 150
    assert summary["resource_count"] >= 50


def test_every_suppression_still_fires(production: Path) -> None:
    """A suppression for a check that passes anyway is dead weight: drop it from the list."""
    listed = set(yaml.safe_load(SUPPRESSIONS.read_text())["skip-check"])
    report = scan(production, with_suppressions=False)
    firing = {c["check_id"] for c in report["results"]["failed_checks"]}
    assert firing == listed
