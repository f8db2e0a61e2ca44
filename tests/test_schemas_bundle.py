"""The bundled CRD schemas: made from the upstream CRDs sources.yaml lists, for the pinned versions, complete.

A Renovate bump of a chart in generator/versions.yaml fails here until the bundle is extracted from that
release's CRDs (`task schemas`). The upstream files are not in the repository: where a sources folder
is there ($CLUSTERFORGE_CRD_SOURCES, else generator/crds/upstream), the committed bundle must be what
`task schemas` makes of it; a hand edit of the bundle fails the index test everywhere.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from generator import state
from generator.crds import BUNDLED, INDEX, SOURCES_ENV
from generator.crds.bundle import SOURCES, check_sources, extract_sources, load_index, load_sources, sources_folder
from generator.errors import InputError
from generator.versions import versions
from tests.conftest import ROOT, copy_example, run_cli

EXAMPLES = ["cluster.example.yaml", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").glob("*.yaml"))]


def bundled_files() -> dict[str, bytes]:
    return {p.relative_to(BUNDLED).as_posix(): p.read_bytes() for p in BUNDLED.rglob("*") if p.is_file()}


def crd_sources() -> Path:
    """The folder of upstream CRD files, when it holds every listed file as sources.yaml says; else the test
    is skipped, or fails where CLUSTERFORGE_REQUIRE_CRD_SOURCES=1."""
    folder = sources_folder()
    problems = check_sources(load_sources(), folder)
    if problems:
        why = f"{SOURCES_ENV} or generator/crds/upstream: {problems[0]} ({len(problems)} file(s) not as {SOURCES} says)"
        if os.environ.get("CLUSTERFORGE_REQUIRE_CRD_SOURCES") == "1":
            pytest.fail(f"CLUSTERFORGE_REQUIRE_CRD_SOURCES=1 but {why}")
        pytest.skip(f"no upstream CRD files to compare the bundle with: {why}")
    return folder


def test_the_bundle_is_what_task_schemas_makes() -> None:
    made = extract_sources(load_sources(), crd_sources())
    on_disk = bundled_files()
    assert sorted(made) == sorted(on_disk), "run `task schemas`"
    for path, data in made.items():
        assert on_disk[path] == data, f"{path} differs from what `task schemas` makes: run it"


def test_the_bundle_was_extracted_for_the_pinned_chart_versions() -> None:
    pinned = versions().model_dump()
    extracted_for = {s["chart"]["pin"]: s["chart"]["version"] for s in load_index()["sources"] if "chart" in s}
    charts = {key: value for key, value in pinned.items() if key.endswith("_chart")}
    assert sorted(extracted_for) == sorted(charts), "every chart clusterforge installs has its CRDs bundled"
    for pin, version in charts.items():
        assert extracted_for[pin] == version, (
            f"versions.yaml pins {pin}: {version}, the bundle was extracted from {extracted_for[pin]}: vendor that "
            f"release's CRDs into generator/crds/upstream, update {SOURCES} and run `task schemas`"
        )


def test_the_provenance_names_a_release_and_a_digest_for_every_file() -> None:
    for source in load_sources():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", source.repository) and source.tag and source.license == "Apache-2.0"
        assert re.fullmatch(r"[0-9a-f]{40}", source.commit), source.project
        for file in source.files:
            assert re.fullmatch(r"[0-9a-f]{64}", file.sha256) and not file.path.startswith("/"), file.path


def test_a_missing_or_changed_source_is_refused_naming_what_to_fetch(tmp_path: Path) -> None:
    sources = [s for s in load_sources() if s.project == "gateway-api"]
    httproute = next(f for f in sources[0].files if f.name.endswith("_httproutes.yaml"))
    (tmp_path / "gateway-api").mkdir()
    (tmp_path / "gateway-api" / httproute.name).write_text("kind: CustomResourceDefinition\n")
    with pytest.raises(InputError) as refused:
        extract_sources(sources, tmp_path)
    lines = refused.value.lines()
    fetch = f"of kubernetes-sigs/gateway-api at {sources[0].tag} (commit {sources[0].commit})"
    assert (
        f"{tmp_path}/gateway-api/gateway.networking.k8s.io_gateways.yaml: missing: fetch "
        f"config/crd/standard/gateway.networking.k8s.io_gateways.yaml {fetch} to this path"
    ) in lines
    digest = hashlib.sha256(b"kind: CustomResourceDefinition\n").hexdigest()
    assert (
        f"{tmp_path}/gateway-api/{httproute.name}: sha256 is {digest}, {SOURCES} says {httproute.sha256}: "
        f"not {httproute.path} {fetch}"
    ) in lines
    assert len(lines) == len(sources[0].files)


def test_the_sources_folder_is_the_one_given_else_the_environment_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SOURCES_ENV, str(tmp_path / "env"))
    assert sources_folder(tmp_path / "given") == tmp_path / "given"
    assert sources_folder() == tmp_path / "env"
    monkeypatch.delenv(SOURCES_ENV)
    assert sources_folder() == BUNDLED.parent / "upstream"


def test_the_index_names_every_schema_with_its_digest() -> None:
    index = load_index()
    files = bundled_files()
    assert sorted(index["schemas"]) == sorted(p for p in files if p != INDEX)
    for path, entry in index["schemas"].items():
        assert entry["sha256"] == hashlib.sha256(files[path]).hexdigest()
    kinds = {path.split("/")[1].rsplit("_", 1)[0] for path in index["schemas"]}
    wanted = {kind.lower() for source in load_sources() for kind in source.kinds}
    assert kinds == wanted


@pytest.mark.parametrize("config", EXAMPLES)
def test_configure_checks_every_kind_of_every_example(config: str, tmp_path: Path) -> None:
    """No "not checked" warning: every CRD kind the examples render is bundled."""
    copy_example(tmp_path)
    if config.startswith("examples/"):
        shutil.copytree(ROOT / "examples", tmp_path / "examples")
    result = run_cli(tmp_path, "configure", "--config", config, "--output", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "no schema checked" not in result.output


def test_the_no_op_digest_reads_the_index_not_the_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "generator"
    shutil.copytree(ROOT / "generator", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.setattr(state, "_PACKAGE", package)
    state.code_digest.cache_clear()  # made once per process: this test changes the package under it
    before = state.code_digest()
    schema = package / "crds" / "bundled" / "postgresql.cnpg.io" / "cluster_v1.json"
    schema.write_text(schema.read_text() + " ")
    local_sources = package / "crds" / "upstream" / "cilium"  # a local, gitignored folder of upstream files
    local_sources.mkdir(parents=True, exist_ok=True)
    (local_sources / "ciliumnetworkpolicies.yaml").write_text("changed")
    state.code_digest.cache_clear()
    assert state.code_digest() == before
    index = package / "crds" / "bundled" / INDEX
    index.write_text(index.read_text() + " ")
    state.code_digest.cache_clear()
    assert state.code_digest() != before
    state.code_digest.cache_clear()  # the next test's digest is of the real package again
