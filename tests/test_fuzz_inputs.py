"""Seeded fuzzing of the files a user writes, cluster.yaml and models.yaml: every mutation ends in a
clean answer (exit 0-3), never exit 4 or a traceback, and every exit-2 line is FILE:LINE:COL.

Each mutation is read the way every command starts (settings, models file, secrets file decrypted:
`secrets verify`), in-process through click's runner into the real command line, so the same error
handler gives the same exit codes. The mutations that still load are rendered too (`configure
--dry-run`), and a few of each file run through the installed program. Two files of a Flux tree
are mutated in every way once each and read by `clusterforge validate`: exit 0 or 1, never 4, and
every finding about a file's YAML names its line. `python -m tests.fuzz_inputs` (`task fuzz`)
runs 1,000 of each through configure and prints the figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz_inputs import (
    CONFIGURE,
    FUZZED_FILES,
    LOAD,
    Campaign,
    Verdict,
    make_repository,
    report,
    validate_campaigns,
    validate_tree,
)
from tests.yaml_mutations import MUTATORS

SEED = 11
LOADED = 300
RENDERED = 6  # of the mutations that still load: a whole configure takes about a second each
THROUGH_THE_PROGRAM = 3


@pytest.fixture(scope="module")
def fuzz_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repository(tmp_path_factory.mktemp("fuzz") / "repo")


def failures(file: str, verdicts: list[Verdict]) -> str:
    return "\n".join(report(file, verdicts, 0.0, show=10)) if any(v.failed for v in verdicts) else ""


@pytest.mark.parametrize("file", FUZZED_FILES)
def test_mutations_load_or_fail_cleanly(fuzz_repo: Path, file: str) -> None:
    before = (fuzz_repo / file).read_bytes()
    loaded = Campaign(fuzz_repo, file, LOAD).run(LOADED, SEED)
    assert (fuzz_repo / file).read_bytes() == before
    assert not failures(file, loaded), failures(file, loaded)
    assert {0, 2} <= {v.exit_code for v in loaded}  # some mutations keep the settings valid
    valid = [v.mutation for v in loaded if v.exit_code in (0, 1)][:RENDERED]
    rendered = Campaign(fuzz_repo, file, CONFIGURE).judge_all(valid)
    assert not failures(file, rendered), failures(file, rendered)


@pytest.mark.parametrize("file", FUZZED_FILES)
def test_mutations_through_the_program(fuzz_repo: Path, file: str) -> None:
    verdicts = Campaign(fuzz_repo, file).run(THROUGH_THE_PROGRAM, SEED + 1, program=True)
    assert not failures(file, verdicts), failures(file, verdicts)
    assert 2 in {v.exit_code for v in verdicts}


# a kustomization (read by validate's planner and by kustomize) and a resource read as written; a resource
# that a kustomization includes goes to kubectl too, whose time and memory bounds are another test's
VALIDATED = ("apps/web/app/kustomization.yaml", "clusters/main/apps.yaml")


@pytest.mark.parametrize("file", VALIDATED)
def test_validate_reads_mutated_files_cleanly(tmp_path: Path, file: str) -> None:
    tree = validate_tree(tmp_path / "tree")
    campaign = next(c for c in validate_campaigns(tree) if c.file == file)
    verdicts = campaign.run(len(MUTATORS), SEED)
    assert not failures(file, verdicts), failures(file, verdicts)
    assert {v.exit_code for v in verdicts} <= {0, 1}
