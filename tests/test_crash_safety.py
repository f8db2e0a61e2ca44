"""All or nothing under kill -9, and one run at a time: real processes, real SIGKILL, real flock.

The kill trials inject SIGKILL with strace at sampled write syscalls of a 66-file configure: the
first, middle and last of each phase (lock, scratch, staging, commit point, roll forward, records,
cleanup). `python benchmarks/crash_safety.py` runs every one of them.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from generator.repolock import repository_lock
from tests.conftest import BASE_SECRETS, MODELS_FILE, decrypt_with_sops, models_file_repo
from tests.crashsafety import (
    STRACE,
    Scenario,
    command,
    environment,
    kill_after,
    kill_at,
    killed_at,
    leftovers,
    race,
    reset,
    sample,
    traced_writes,
    write_calls,
)
from tests.crashsafety import clusterforge as run

needs_strace = pytest.mark.skipif(
    STRACE is None and not os.environ.get("CLUSTERFORGE_REQUIRE_STRACE"),
    reason="strace is not installed (apt-get install strace); CI sets CLUSTERFORGE_REQUIRE_STRACE",
)
NEW_KEY = "sk-new-value-1234"
SET_SECRET = ("secrets", "set", "openai", "--from-stdin")
ADD_MODEL = (
    "models",
    "add",
    "--name",
    "m2",
    "--provider",
    "openai",
    "--model",
    "gpt-4o-mini",
    "--credential",
    "openai",
)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return Scenario.build(tmp_path_factory.mktemp("scenario"))


@pytest.fixture
def work(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "work", tmp_path / "tmp"


def test_the_scenario_is_a_66_file_change_with_secrets(scenario: Scenario) -> None:
    assert scenario.changed_files() == {"created": 32, "removed": 32, "changed": 2}
    assert len(scenario.fresh) == 4  # every secret file moves to the new namespace, one with a rotated key
    assert scenario.classify(scenario.template / "output") == "old"


@needs_strace
def test_kill_at_sampled_write_syscalls_leaves_the_old_or_the_new_tree(
    scenario: Scenario, work: tuple[Path, Path]
) -> None:
    folder, tmpdir = work
    calls = write_calls(scenario, folder, tmpdir)
    assert {"lock", "scratch", "staging", "commit point", "roll forward", "records", "cleanup"} <= {
        c.phase for c in calls
    }
    failures = []
    trees = set()
    for call in sample(calls):
        outcome = kill_at(scenario, folder, tmpdir, call)
        trees.add(outcome.tree)
        if not (outcome.killed and outcome.hit) or outcome.tree == "mixed" or outcome.left or not outcome.consistent:
            failures.append(f"{call}: {outcome}")
    assert failures == []
    assert trees == {"old", "new"}  # kills before the commit point roll back, after it forward


@needs_strace
def test_the_commit_point_is_the_rename_of_the_journal(scenario: Scenario, work: tuple[Path, Path]) -> None:
    folder, tmpdir = work
    calls = write_calls(scenario, folder, tmpdir)
    commit = next(c for c in calls if c.syscall == "rename" and c.key.endswith("/journal"))
    after = calls[calls.index(commit) + 1]
    assert kill_at(scenario, folder, tmpdir, commit).tree == "old"
    assert kill_at(scenario, folder, tmpdir, after).tree == "new"


def test_kill_at_random_moments_leaves_no_scratch_folder(scenario: Scenario, work: tuple[Path, Path]) -> None:
    folder, tmpdir = work
    for moment in random.Random(11).sample(range(20, 320), 5):  # noqa: S311 - moments, not secrets  # 0.2 s to 3.2 s into a run of about 3 s
        outcome = kill_after(scenario, folder, tmpdir, moment / 100)
        assert outcome.tree != "mixed", moment
        assert outcome.left == (), moment
        assert outcome.consistent, (moment, outcome)


def test_sigterm_removes_the_scratch_folder_at_once(scenario: Scenario, work: tuple[Path, Path]) -> None:
    """SIGTERM (a cancelled CI job, `timeout`): the run's scratch folder goes with it; the tree is
    left as kill -9 leaves it, for the next run."""
    folder, tmpdir = work
    for moment in random.Random(5).sample(range(50, 250), 3):  # noqa: S311 - moments, not secrets
        scenario.fresh_copy(folder)
        reset(tmpdir)
        process = subprocess.Popen(command("configure"), cwd=folder, env=environment(tmpdir), stderr=subprocess.PIPE)
        time.sleep(moment / 100)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate()
        assert process.returncode in (0, -signal.SIGTERM), stderr
        assert [p.name for p in tmpdir.iterdir() if p.name.startswith("clusterforge-")] == [], moment
        assert run(folder, tmpdir, "configure", "--check").returncode in (0, 1)
        assert scenario.classify(folder / "output") != "mixed", moment
        assert leftovers(folder, tmpdir) == [], moment


def test_two_configures_at_once_run_one_after_the_other(scenario: Scenario, work: tuple[Path, Path]) -> None:
    folder, tmpdir = work
    for _ in range(4):
        result = race(scenario, folder, tmpdir)
        assert result.codes == (0, 0), result.stderr
        assert result.tree == "new"
        assert result.left == ()
        # the second one planned against what the first one left: nothing to do
        assert sorted(out.strip().splitlines()[-1] for out in result.stdout) == [
            "0 created, 0 changed, 50 unchanged, 0 removed",
            "32 created, 2 changed, 16 unchanged, 32 removed",
        ]
        assert len([err for err in result.stderr if "; waiting up to 60 s" in err]) == 1


def test_a_run_that_waits_too_long_names_the_writer_and_exits_1(scenario: Scenario, work: tuple[Path, Path]) -> None:
    folder, tmpdir = work
    result = race(scenario, folder, tmpdir, {"CLUSTERFORGE_LOCK_TIMEOUT": "0.3"})
    assert sorted(result.codes) == [0, 1], result.stderr
    loser = result.codes.index(1)
    message = result.stderr[loser].strip().splitlines()[-1]
    assert message == (
        f"another clusterforge (pid {result.pids[1 - loser]}) is writing {folder} (`clusterforge configure`); "
        "gave up after waiting 0.3 s: run again once it has finished"
    )
    assert result.tree == "new"
    assert result.left == ()


def clusterforge(work: Path, tmpdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run(work, tmpdir, *args, env=env, stdin=NEW_KEY + "\n")


WRITERS = [
    ("configure",),
    ("configure", "--check"),
    ("configure", "--dry-run"),
    SET_SECRET,
    ("secrets", "generate", "ui_password", "--force"),
    ADD_MODEL,
    ("models", "remove", "gpt-4o"),
    ("init",),
]


@pytest.mark.parametrize("args", WRITERS, ids=" ".join)
def test_every_command_that_writes_or_reads_the_output_waits(tmp_path: Path, args: tuple[str, ...]) -> None:
    repo = models_file_repo(tmp_path / "repo")

    def files() -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in repo.root.rglob("*") if p.is_file() and p.name != "lock"}

    before = files()
    tmpdir = tmp_path / "tmp"
    reset(tmpdir)
    with repository_lock(repo.root, "a test holding it"):
        done = clusterforge(repo.root, tmpdir, *args, CLUSTERFORGE_LOCK_TIMEOUT="0.2")
    assert done.returncode == 1, done.stderr
    holder = f"another clusterforge (pid {os.getpid()}) is writing {repo.root} (`clusterforge a test holding it`)"
    assert done.stderr.splitlines() == [
        f"{holder}; waiting up to 0.2 s (CLUSTERFORGE_LOCK_TIMEOUT sets how long)",
        f"{holder}; gave up after waiting 0.2 s: run again once it has finished",
    ]
    assert files() == before


@needs_strace
@pytest.mark.parametrize("args", [SET_SECRET, ADD_MODEL], ids=["secrets set", "models add"])
def test_kill_at_every_write_of_an_input_edit_leaves_the_old_or_the_new_file(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    template = models_file_repo(tmp_path / "template").root
    work, tmpdir = tmp_path / "work", tmp_path / "tmp"

    def fresh() -> None:
        if work.exists():
            shutil.rmtree(work)
        shutil.copytree(template, work)
        reset(tmpdir)

    def version() -> str:
        """Which content the edited file has: old or new (the secrets file by its decrypted value)."""
        if args[0] == "models":
            text = (work / "models.yaml").read_text()
            added = text.startswith(MODELS_FILE) and "name: m2" in text
            return "old" if text == MODELS_FILE else "new" if added else text
        data = yaml.safe_load(decrypt_with_sops(work / "cluster.secrets.sops.yaml", work / "age.key"))
        return {BASE_SECRETS["openai"]: "old", NEW_KEY: "new"}[data["openai"]]

    fresh()
    calls = traced_writes(work, tmpdir, *args, stdin=NEW_KEY)
    assert version() == "new"
    assert len(calls) >= 8
    seen = set()
    for call in calls:
        fresh()
        assert killed_at(work, tmpdir, call, *args, stdin=NEW_KEY) == (True, True), call
        assert clusterforge(work, tmpdir, "configure", "--check").returncode == 1  # the next command: no output yet
        seen.add(version())
        assert [p.name for p in work.rglob("*") if p.name.endswith(".clusterforge-tmp")] == [], call
    assert seen == {"old", "new"}


def test_leftovers_are_found(tmp_path: Path) -> None:
    """What the trials look for is seen when it is there."""
    (tmp_path / "w" / "output" / ".clusterforge" / "txn-1-abcdef12").mkdir(parents=True)
    (tmp_path / "w" / ".models.yaml.1-abcdef12.clusterforge-tmp").write_text("")
    (tmp_path / "t" / "clusterforge-run-1-abcdef12").mkdir(parents=True)
    assert set(leftovers(tmp_path / "w", tmp_path / "t")) == {
        ".models.yaml.1-abcdef12.clusterforge-tmp",
        "output/.clusterforge",
        "output/.clusterforge/txn-1-abcdef12",
        str(tmp_path / "t" / "clusterforge-run-1-abcdef12"),
    }
