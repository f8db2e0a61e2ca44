"""Real processes, real kill -9: the trials of tests/test_crash_safety.py and benchmarks/crash_safety.py.

A scenario is a repository configured with OLD settings and then changed to NEW ones (LiteLLM moves to
another namespace, replicas change, a provider key is rotated): a 66-file change, 32 files created,
32 removed and 2 changed, secrets among them. A trial runs `clusterforge configure` on a fresh copy
of it, kills it (strace injects SIGKILL at the K-th call of one write syscall, or a timer fires), runs
the next command (`configure --check`), and then looks at the whole output folder: it must be the old
tree byte for byte, or a complete new rendering. sops encryption is random, so a secret file that the
new rendering encrypts afresh is compared by its content, decrypted with the real sops (which also
checks its MAC); every other file, secrets kept from the old tree included, byte for byte.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import MINIMAL, decrypt_with_sops, make_repo, tree_bytes

STRACE = shutil.which("strace")
# the syscalls that change files; an openat counts when it opens for writing
WRITE_SYSCALLS = (
    "openat",
    "write",
    "pwrite64",
    "fsync",
    "fdatasync",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "ftruncate",
    "fchmod",
    "fchmodat",
    "chmod",
)
_OPEN_FOR_WRITING = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
_FD_SYSCALLS = ("write", "pwrite64", "fsync", "fdatasync", "ftruncate", "fchmod")

FEATURES = """network_policies:
  enabled: true
observability:
  metrics:
    service_monitor:
      enabled: true
    rules: true
  dashboards:
    enabled: true
exposure:
  type: gateway
  gateway:
    name: internal
    namespace: gateway
    route_in_gateway_namespace: true
"""
OLD = MINIMAL + FEATURES
NEW = OLD + "litellm:\n  namespace: llm-gateway\n  replicas: 3\n"
ROTATED_OPENAI = "sk-test-openai-rotated-4242"
TIMEOUT = 300


def clusterforge(
    cwd: Path,
    tmpdir: Path,
    *args: str,
    strace: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m generator ARGS` in ``cwd`` with its own TMPDIR; under strace (main thread only) if asked."""
    return subprocess.run(
        command(*args, strace=strace),
        cwd=cwd,
        env=environment(tmpdir, env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def command(*args: str, strace: tuple[str, ...] = ()) -> list[str]:
    argv = [sys.executable, "-m", "generator", *args]
    # no -f: strace counts calls per task, and the main thread is the one that writes the tree
    return [STRACE or "strace", "-qq", *strace, "--", *argv] if strace else argv


def environment(tmpdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SOPS_AGE_KEY_FILE"}
    # the same syscalls in every run: no bytecode written by one run and read by the next
    env.update({"TMPDIR": str(tmpdir), "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra or {})
    return env


@dataclass
class Scenario:
    template: Path  # configured with OLD, then changed to NEW and not configured again
    old: dict[str, bytes]  # the whole output folder, OLD
    new: dict[str, bytes]  # one complete rendering of NEW
    fresh: dict[str, str]  # secret files NEW encrypts afresh: their content, to compare decrypted
    key: Path

    @classmethod
    def build(cls, base: Path) -> Scenario:
        template = base / "template"
        repo = make_repo(template, OLD)
        scratch = base / "build-tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        first = clusterforge(template, scratch, "configure")
        assert first.returncode == 0, first.stderr
        old = tree_bytes(repo.output)
        repo.config.write_text(NEW)
        repo.secrets_file.add("openai", ROTATED_OPENAI)
        reference = base / "reference"
        shutil.copytree(template, reference, symlinks=True)
        done = clusterforge(reference, scratch, "configure")
        assert done.returncode == 0, done.stderr
        new = tree_bytes(reference / "output")
        fresh = {
            p: decrypt_with_sops(reference / "output" / p, repo.root / "age.key")
            for p in new
            if p.endswith(".sops.yaml") and old.get(p) != new[p]
        }
        shutil.rmtree(reference)
        return cls(template, old, new, fresh, template / "age.key")

    def changed_files(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for path in set(self.old) | set(self.new):
            if path not in self.old:
                counts["created"] += 1
            elif path not in self.new:
                counts["removed"] += 1
            elif self.old[path] != self.new[path]:
                counts["changed"] += 1
        return counts

    def fresh_copy(self, work: Path) -> Path:
        """The scenario at ``work`` (always the same path: the state record names its folder)."""
        return fresh_copy(self.template, work)

    def classify(self, output: Path) -> str:
        """'old', 'new' or 'mixed': the whole output folder against the two complete trees."""
        tree = tree_bytes(output)
        if tree == self.old:
            return "old"
        if set(tree) != set(self.new):
            return "mixed"
        for path, data in tree.items():
            if data == self.new[path]:
                continue
            if path in self.fresh and self._plaintext(output / path) == self.fresh[path]:
                continue
            return "mixed"
        return "new"

    def _plaintext(self, path: Path) -> str | None:
        try:
            return decrypt_with_sops(path, self.key)
        except subprocess.CalledProcessError:
            return None  # not a complete sops file


def fresh_copy(template: Path, work: Path) -> Path:
    """A copy of ``template`` at ``work``, whatever a trial left there."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(template, work, symlinks=True)
    return work


def leftovers(work: Path, tmpdir: Path) -> list[str]:
    """Temporary files, transaction folders and scratch folders that survived."""
    found = [
        str(p.relative_to(work))
        for p in work.rglob("*")
        if p.name.endswith(".clusterforge-tmp") or p.name.startswith("txn-") or p == work / "output" / ".clusterforge"
    ]
    found += [str(p) for p in tmpdir.iterdir() if p.name.startswith("clusterforge-")] if tmpdir.exists() else []
    return sorted(found)


@dataclass(frozen=True)
class WriteCall:
    syscall: str
    ordinal: int  # its number among the main thread's calls of this syscall: strace's when=
    key: str  # what it touches, with pids and random names taken out
    phase: str


# owner tags (`<pid>-<hex>`), random suffixes, and the file tempfile writes to test TMPDIR (`tmp/<8 chars>`)
_RANDOM = re.compile(r"(?<=[-.])(?:\d+-)?[0-9a-f]{8}\b|(?<=/tmp/)[a-z0-9_]{8}\b")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_FD_PATH = re.compile(r"<([^>]*)>")


def call_key(line: str) -> str:
    """The syscall and the paths it touches, comparable between runs."""
    name = line.split("(", 1)[0]
    arguments = line.split("(", 1)[1].rsplit(") = ", 1)[0] if "(" in line else ""
    if name in _FD_SYSCALLS:
        paths = _FD_PATH.findall(arguments)[:1]  # the file written; never its (random) data
    else:
        paths = _FD_PATH.findall(arguments) + _QUOTED.findall(arguments)
    text = " ".join(paths)
    text = re.sub(r"pipe:\[\d+\]", "pipe", text)
    return f"{name} {_RANDOM.sub('*', text)}"


def _phase(key: str, committed: bool) -> str:
    if "/.clusterforge/lock" in key:
        return "lock"
    if "clusterforge-run-" in key:
        return "scratch"
    if "journal" in key:
        return "commit point"
    if "/.clusterforge/txn-" in key or "/output/.clusterforge" in key:
        if key.startswith("rename ") and "/new/" in key:
            return "roll forward"
        return "cleanup" if committed else "staging"
    if ".state.json" in key or ".sealed.json" in key:
        return "records" if committed else "staging"
    if "/output" in key:
        return "roll forward" if committed else "staging"
    return "other"


def traced_writes(cwd: Path, tmpdir: Path, *args: str, stdin: str | None = None) -> list[WriteCall]:
    """Every write syscall of one run's main thread, in order."""
    log = tmpdir.parent / "trace.log"
    done = clusterforge(
        cwd, tmpdir, *args, strace=("-y", "-o", str(log), "-e", f"trace={','.join(WRITE_SYSCALLS)}"), stdin=stdin
    )
    assert done.returncode == 0, done.stderr
    ordinals: Counter[str] = Counter()
    calls = []
    committed = False
    for line in log.read_text().splitlines():
        name = line.split("(", 1)[0]
        if name not in WRITE_SYSCALLS:
            continue  # a signal, an exit
        ordinals[name] += 1
        if name == "openat" and not any(flag in line for flag in _OPEN_FOR_WRITING):
            continue
        key = call_key(line)
        if key.startswith("rename ") and key.endswith("/journal"):
            committed = True
        calls.append(WriteCall(name, ordinals[name], key, _phase(key, committed)))
    return calls


def killed_at(cwd: Path, tmpdir: Path, call: WriteCall, *args: str, stdin: str | None = None) -> tuple[bool, bool]:
    """Run with strace injecting SIGKILL at ``call``: (whether it died of it, whether at that very call)."""
    log = tmpdir.parent / "kill.log"
    kill = f"inject={call.syscall}:signal=KILL:when={call.ordinal}"
    done = clusterforge(
        cwd, tmpdir, *args, strace=("-y", "-o", str(log), "-e", f"trace={call.syscall}", "-e", kill), stdin=stdin
    )
    lines = [line for line in log.read_text().splitlines() if line.startswith(call.syscall + "(")]
    hit = bool(lines) and call_key(lines[-1]) == call.key and lines[-1].endswith("= ?")
    return done.returncode in (-9, 137), hit


def write_calls(scenario: Scenario, work: Path, tmpdir: Path) -> list[WriteCall]:
    """Every write syscall of configure's main thread on the scenario, in order, from one traced run."""
    scenario.fresh_copy(work)
    reset(tmpdir)
    return traced_writes(work, tmpdir, "configure")


def reset(tmpdir: Path) -> None:
    if tmpdir.exists():
        shutil.rmtree(tmpdir)
    tmpdir.mkdir(parents=True)


@dataclass(frozen=True)
class Outcome:
    killed: bool  # the configure died of SIGKILL
    hit: bool  # ... at the very call that was aimed at
    tree: str  # old | new | mixed, after the next run
    left: tuple[str, ...]  # temporary files and folders after the next run
    check_rc: int  # the next run's exit code: 0 for the new tree, 1 for the old one
    check_err: str

    @property
    def consistent(self) -> bool:
        """The next run's verdict matches the tree: the records never describe a tree that is not there."""
        return {"new": 0, "old": 1}.get(self.tree) == self.check_rc


def kill_at(scenario: Scenario, work: Path, tmpdir: Path, call: WriteCall) -> Outcome:
    """configure killed by strace at ``call``, then `configure --check`; what the output is then."""
    scenario.fresh_copy(work)
    reset(tmpdir)
    killed, hit = killed_at(work, tmpdir, call, "configure")
    return _after(scenario, work, tmpdir, killed, hit)


def kill_after(scenario: Scenario, work: Path, tmpdir: Path, seconds: float, how: int = signal.SIGKILL) -> Outcome:
    """configure sent ``how`` (SIGKILL) ``seconds`` after it started, then `configure --check`."""
    scenario.fresh_copy(work)
    reset(tmpdir)
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(command("configure"), cwd=work, env=environment(tmpdir), stdout=quiet, stderr=quiet)
    time.sleep(seconds)
    process.send_signal(how)
    rc = process.wait()
    return _after(scenario, work, tmpdir, rc == -how, True)


def _after(scenario: Scenario, work: Path, tmpdir: Path, killed: bool, hit: bool) -> Outcome:
    check = clusterforge(work, tmpdir, "configure", "--check")
    tree = scenario.classify(work / "output")
    return Outcome(killed, hit, tree, tuple(leftovers(work, tmpdir)), check.returncode, check.stderr)


@dataclass(frozen=True)
class Race:
    codes: tuple[int, int]
    stderr: tuple[str, str]
    stdout: tuple[str, str]
    pids: tuple[int, int]
    tree: str
    left: tuple[str, ...]


def race(scenario: Scenario, work: Path, tmpdir: Path, env: dict[str, str] | None = None) -> Race:
    """Two `clusterforge configure` started at once on the changed scenario."""
    scenario.fresh_copy(work)
    reset(tmpdir)
    processes = [
        subprocess.Popen(
            command("configure"),
            cwd=work,
            env=environment(tmpdir, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=TIMEOUT) for p in processes]
    return Race(
        (processes[0].returncode, processes[1].returncode),
        (results[0][1], results[1][1]),
        (results[0][0], results[1][0]),
        (processes[0].pid, processes[1].pid),
        scenario.classify(work / "output"),
        tuple(leftovers(work, tmpdir)),
    )


def sample(calls: list[WriteCall], per_phase: int = 3) -> list[WriteCall]:
    """First, middle and last call of every phase of the commit (and of the other writes)."""
    chosen: list[WriteCall] = []
    for phase in dict.fromkeys(c.phase for c in calls):
        of_phase = [c for c in calls if c.phase == phase]
        picks = {0, len(of_phase) // 2, len(of_phase) - 1} if per_phase >= 3 else {0, len(of_phase) - 1}
        chosen += [of_phase[i] for i in sorted(picks)]
    return chosen
