"""The corpus: every broken case reports exactly its one defect; every valid repository passes clean."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.conftest import CHART_SCHEMAS, ROOT, run_cli

CORPUS = ROOT / "tests" / "validate"
BROKEN = sorted(p for p in (CORPUS / "broken").iterdir() if p.is_dir())
VALID = sorted(p for p in (CORPUS / "valid").iterdir() if p.is_dir())
REPO_URL = "https://github.com/example/fleet"  # what the corpus repositories call themselves


def validate_case(case: Path, *extra: str) -> tuple[int, list[str]]:
    """Run `clusterforge validate` on a case as its own repository; the finding lines and the exit code."""
    args = shlex.split((case / "args").read_text()) if (case / "args").exists() else []
    result = run_cli(
        case,
        "validate",
        ".",
        "--strict",
        "--repo-root",
        ".",
        "--repo-url",
        REPO_URL,
        *CHART_SCHEMAS,  # CRD kinds: the bundled schemas
        *args,
        *extra,
    )
    lines = result.output.splitlines()
    findings = [line for line in lines[:-1] if not line.startswith("not checked against a schema:")]
    return result.exit_code, findings


def test_the_corpus_is_big_enough() -> None:
    assert len(BROKEN) >= 40
    assert {"flux-apps", "argocd-apps"} <= {p.name for p in VALID}


@pytest.mark.parametrize("case", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_case_reports_exactly_its_defect(case: Path) -> None:
    expected = (case / "expect").read_text().strip().splitlines()
    assert len(expected) == 1, "one defect per case"
    code, findings = validate_case(case)
    assert findings == expected
    assert code == 1


@pytest.mark.parametrize("case", VALID, ids=[p.name for p in VALID])
def test_valid_repository_passes_clean(case: Path) -> None:
    code, findings = validate_case(case)
    assert findings == []
    assert code == 0
