"""A wheel installed outside the checkout carries its templates and renders the example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT, copy_example


def test_wheel_renders_the_example_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("clusterforge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "generator/templates/apps/litellm/deployment.yaml.j2" in names
    assert "generator/cluster.example.yaml" in names
    assert "generator/models.example.yaml" in names
    assert "generator/templates/files/message_trimming.py" in names
    assert "generator/versions.yaml" in names
    # the bundled CRD schemas ship; the upstream CRD files they are made from stay in the repository
    assert "generator/crds/bundled/index.json" in names
    assert "generator/crds/bundled/postgresql.cnpg.io/cluster_v1.json" in names
    assert not [name for name in names if name.startswith("generator/crds/upstream/")]

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    copy_example(work)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import generator; print(generator.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(site))
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "configure", "--config", "cluster.example.yaml"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no schema checked" not in proc.stderr  # the installed package checks every kind it renders
    plain = sorted(p.relative_to(ROOT / "output").as_posix() for p in (ROOT / "output").rglob("*") if p.is_file())
    rendered = sorted(p.relative_to(work / "output").as_posix() for p in (work / "output").rglob("*") if p.is_file())
    assert rendered == plain
    for path in plain:
        if not path.endswith(".sops.yaml"):
            assert (work / "output" / path).read_bytes() == (ROOT / "output" / path).read_bytes(), path


def test_nothing_but_ci_needs_the_team_workbench() -> None:
    """A user has none of the team's workbench (the shared/ folder beside a CI checkout): README, Taskfile,
    tests, benchmarks and the package never name it; only .ci/run may, for CI extras."""
    workbench = re.compile(r"\.\./shared|[\"']shared[\"']\s*/")
    files = [
        ROOT / "README.md",
        ROOT / "Taskfile.yml",
        ROOT / "pyproject.toml",
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("benchmarks/**/*.py"),
        *ROOT.glob("generator/**/*.py"),
    ]
    assert [str(p.relative_to(ROOT)) for p in files if workbench.search(p.read_text())] == []
