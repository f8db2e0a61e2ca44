"""All or nothing across clusters: configure killed (strace SIGKILL) at sampled write syscalls of a commit
that changes two clusters' trees leaves both old or both new, never one cluster new beside the other old.

The repository: staging and production made by `init --cluster`, configured; then common.yaml moves
LiteLLM to another namespace, which changes, creates and removes files in both trees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import decrypt_with_sops, tree_bytes
from tests.crashsafety import STRACE, fresh_copy, killed_at, leftovers, reset, sample, traced_writes
from tests.crashsafety import clusterforge as run

needs_strace = pytest.mark.skipif(
    STRACE is None and not os.environ.get("CLUSTERFORGE_REQUIRE_STRACE"),
    reason="strace is not installed (apt-get install strace); CI sets CLUSTERFORGE_REQUIRE_STRACE",
)
CLUSTERS = ("production", "staging")


def _trees(root: Path) -> dict[str, bytes]:
    """Both clusters' outputs, as one tree."""
    found: dict[str, bytes] = {}
    for name in CLUSTERS:
        found.update({f"{name}/{p}": data for p, data in tree_bytes(root / "clusters" / name / "output").items()})
    return found


@dataclass(frozen=True)
class TwoClusters:
    template: Path  # configured, then common.yaml changed and not configured again
    old: dict[str, bytes]
    new: dict[str, bytes]  # one complete rendering of the change
    fresh: dict[str, str]  # secret files the change encrypts afresh (sops is random): their plaintext

    def fresh_copy(self, work: Path) -> Path:
        return fresh_copy(self.template, work)

    def classify(self, root: Path) -> str:
        tree = _trees(root)
        if tree == self.old:
            return "old"
        if set(tree) != set(self.new):
            return "mixed"
        for path, data in tree.items():
            if data != self.new[path] and self.fresh.get(path) != _plaintext(root, path):
                return "mixed"
        return "new"


def _file(root: Path, path: str) -> Path:
    name, rest = path.split("/", 1)
    return root / "clusters" / name / "output" / rest


def _plaintext(root: Path, path: str) -> str | None:
    """A secret file's content, decrypted with its own cluster's key (None: not a complete sops file)."""
    try:
        return decrypt_with_sops(_file(root, path), root / "clusters" / path.split("/", 1)[0] / "age.key")
    except subprocess.CalledProcessError:
        return None


def _ok(done: object) -> None:
    assert getattr(done, "returncode", 1) == 0, getattr(done, "stderr", "")


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> TwoClusters:
    base = tmp_path_factory.mktemp("two-clusters")
    template, scratch = base / "template", base / "tmp"
    template.mkdir()
    scratch.mkdir()
    for name in CLUSTERS:
        _ok(run(template, scratch, "init", "--cluster", name))
    for secret in ("openai", "anthropic"):
        _ok(run(template, scratch, "secrets", "set", secret, "--from-stdin", stdin=f"sk-{secret}-test\n"))
    _ok(run(template, scratch, "configure"))
    old = _trees(template)
    common = template / "clusters" / "common.yaml"
    common.write_text(common.read_text().replace("namespace: ai-system", "namespace: llm-gateway"))
    reference = base / "reference"
    shutil.copytree(template, reference, symlinks=True)
    _ok(run(reference, scratch, "configure"))
    new = _trees(reference)
    fresh = {
        p: decrypt_with_sops(_file(reference, p), reference / "clusters" / p.split("/", 1)[0] / "age.key")
        for p in new
        if p.endswith(".sops.yaml") and old.get(p) != new[p]
    }
    shutil.rmtree(reference)
    return TwoClusters(template, old, new, fresh)


def test_the_change_touches_both_clusters(two: TwoClusters) -> None:
    for name in CLUSTERS:
        changed = {
            p for p in set(two.old) | set(two.new) if p.startswith(f"{name}/") and two.old.get(p) != two.new.get(p)
        }
        assert len(changed) > 10, (name, sorted(changed))


@needs_strace
def test_kill_at_sampled_write_syscalls_leaves_both_clusters_old_or_both_new(two: TwoClusters, tmp_path: Path) -> None:
    work, tmpdir = tmp_path / "work", tmp_path / "tmp"
    two.fresh_copy(work)
    reset(tmpdir)
    calls = traced_writes(work, tmpdir, "configure")
    assert any(c.phase == "commit point" for c in calls)
    chosen = sample(calls)
    outcomes = []
    for call in chosen:
        two.fresh_copy(work)
        reset(tmpdir)
        killed, _hit = killed_at(work, tmpdir, call, "configure")
        check = run(work, tmpdir, "configure", "--check")
        tree = two.classify(work)
        outcomes.append((call.phase, call.key, killed, tree, check.returncode, leftovers(work, tmpdir)))
    mixed = [o for o in outcomes if o[3] == "mixed"]
    assert not mixed, mixed
    # the next run's verdict matches what is there: exit 0 for the new trees, 1 for the old ones
    wrong = [o for o in outcomes if {"new": 0, "old": 1}[o[3]] != o[4]]
    assert not wrong, wrong
    assert not [o for o in outcomes if o[5]], "temporary files or transaction folders were left"
    assert {o[3] for o in outcomes} == {"old", "new"}, "the sample must hit both sides of the commit point"
    assert all(o[2] for o in outcomes), "every aimed kill must kill"
