"""The transaction, its recovery and the per-run scratch folder, on real files, locks and processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from generator import scratch
from generator.errors import Busy, UsageError
from generator.owned import claim_folder
from generator.transaction import AREA, recover
from generator.transaction.commit import NewFile, commit
from generator.transaction.journal import JOURNAL, STAGED, Journal
from tests.conftest import tree_bytes


def an_output(root: Path) -> Path:
    output = root / "output"
    (output / "a").mkdir(parents=True)
    (output / "a" / "old.yaml").write_text("old\n")
    (output / "a" / "kept.yaml").write_text("kept v1\n")
    (output / "foreign.txt").write_text("not ours\n")
    return output


def test_commit_writes_removes_and_records_in_one_go(tmp_path: Path) -> None:
    output = an_output(tmp_path)
    record = tmp_path / ".clusterforge" / "x.state.json"
    writes = {"a/kept.yaml": NewFile(b"kept v2\n", 0o640), "b/c/new.yaml": NewFile(b"new\n")}
    commit(output, writes, ["a/old.yaml"], {record: b"{}\n"})
    assert tree_bytes(output) == {"a/kept.yaml": b"kept v2\n", "b/c/new.yaml": b"new\n", "foreign.txt": b"not ours\n"}
    assert (output / "a" / "kept.yaml").stat().st_mode & 0o777 == 0o640
    assert record.read_bytes() == b"{}\n"
    assert record.stat().st_mode & 0o777 == 0o600
    assert not (output / AREA).exists()


def test_a_folder_in_the_way_is_refused_before_anything_changes(tmp_path: Path) -> None:
    output = an_output(tmp_path)
    (output / "b").write_text("a file where a folder goes\n")
    before = tree_bytes(output)
    with pytest.raises(UsageError, match=r"output/b: is a file where a folder of generated files goes"):
        commit(output, {"b/new.yaml": NewFile(b"new\n")}, ["a/old.yaml"], {})
    assert tree_bytes(output) == before
    assert not (output / AREA).exists()


def interrupted(output: Path, journal: Journal | None) -> Path:
    """A transaction folder as a killed run leaves it: staged files, and the journal if it got that far."""
    folder = output / AREA / "txn-999999-abcdef12"
    (folder / STAGED / "b").mkdir(parents=True)
    (folder / STAGED / "b" / "new.yaml").write_text("new\n")
    if journal is not None:
        (folder / JOURNAL).write_bytes(journal.to_bytes())
    return folder


def test_recovery_rolls_a_committed_transaction_forward(tmp_path: Path) -> None:
    output = an_output(tmp_path)
    interrupted(output, Journal(("b/new.yaml",), ("a/old.yaml",)))
    assert recover(output) == ["rolled forward txn-999999-abcdef12"]
    assert tree_bytes(output) == {"a/kept.yaml": b"kept v1\n", "b/new.yaml": b"new\n", "foreign.txt": b"not ours\n"}
    assert not (output / AREA).exists()


def test_recovery_rolls_an_uncommitted_transaction_back(tmp_path: Path) -> None:
    output = an_output(tmp_path)
    before = tree_bytes(output)
    interrupted(output, None)
    assert recover(output) == ["rolled back txn-999999-abcdef12"]
    assert tree_bytes(output) == before
    assert not (output / AREA).exists()


def test_rolling_forward_twice_is_rolling_forward_once(tmp_path: Path) -> None:
    """A run killed while it recovers leaves work the next one finishes."""
    output = an_output(tmp_path)
    journal = Journal(("b/new.yaml",), ("a/old.yaml",))
    folder = interrupted(output, journal)
    (output / "b").mkdir()
    os.rename(folder / STAGED / "b" / "new.yaml", output / "b" / "new.yaml")  # half done already
    (output / "a" / "old.yaml").unlink()
    assert recover(output) == ["rolled forward txn-999999-abcdef12"]
    assert tree_bytes(output) == {"a/kept.yaml": b"kept v1\n", "b/new.yaml": b"new\n", "foreign.txt": b"not ours\n"}


def test_a_journal_naming_a_path_outside_the_output_is_refused(tmp_path: Path) -> None:
    output = an_output(tmp_path)
    (tmp_path / "precious").write_text("keep me\n")
    interrupted(output, Journal((), ("../precious",)))
    with pytest.raises(UsageError, match=r"names '\.\./precious', which is not inside the output folder"):
        recover(output)
    assert (tmp_path / "precious").read_text() == "keep me\n"


def test_a_corrupt_journal_says_how_to_drop_the_commit(tmp_path: Path) -> None:
    output = an_output(tmp_path)
    folder = interrupted(output, None)
    (folder / JOURNAL).write_text(json.dumps({"writes": 1}))
    with pytest.raises(UsageError, match=rf"cannot be read .*; remove {folder} to drop that commit"):
        recover(output)


def test_recovery_waits_for_a_transaction_whose_owner_is_alive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another repository's configure writing the same output: its transaction is not touched."""
    output = an_output(tmp_path)
    (output / AREA).mkdir()
    live = claim_folder(output / AREA, "txn-")  # flock'd here; recover() opens it anew and must wait
    monkeypatch.setenv("CLUSTERFORGE_LOCK_TIMEOUT", "0.2")
    try:
        with pytest.raises(Busy, match=rf"another clusterforge \(pid {os.getpid()}\) is writing {output}; gave up"):
            recover(output)
        assert live.path.is_dir()
    finally:
        live.remove()


HOLD_SCRATCH = """
import sys, time
from generator import scratch
print(scratch.folder("held"), flush=True)
time.sleep(60)
"""


def test_scratch_folders_of_dead_runs_are_swept_and_live_ones_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SCRATCH], stdout=subprocess.PIPE, text=True, env=env)
    try:
        held = Path(holder.stdout.readline().strip())  # type: ignore[union-attr]
        run_folder = held.parent
        assert run_folder.name.startswith(f"clusterforge-run-{holder.pid}-")
        assert scratch.sweep() == []
        assert held.is_dir()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert scratch.sweep() == [run_folder]
    assert not run_folder.exists()


def test_a_run_removes_its_scratch_folder_when_it_exits(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    code = "from generator import scratch; print(scratch.folder('x'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert Path(done.stdout.strip()).parent.parent == tmp_path
    assert list(tmp_path.iterdir()) == []
