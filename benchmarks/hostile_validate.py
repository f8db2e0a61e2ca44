"""Each hostile tree of tests/hostile.py through a whole `clusterforge validate` process: wall time, peak
memory of the whole process tree, the error it ends with, and whether anything touched the network.

Peak memory: the resident set of clusterforge and every process it starts, summed, sampled from /proc
every few milliseconds (Linux); and the largest single process exactly (getrusage). Network: one more
run under `strace -f` counting git executions and inet connect/sendto calls (skipped without strace).
The goal (issue 11): each tree ends with its clear error in under 2 s and 300 MB, nothing on the network.

Run: python benchmarks/hostile_validate.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile import HOSTILE, Hostile, one_error  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
GOAL_SECONDS = 2.0
GOAL_MB = 300


def argv() -> list[str]:
    return [sys.executable, "-m", "generator", "validate", ".", "--repo-root", ".", "--ignore-missing-schemas"]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


class TreeMemory:
    """The summed resident memory of a process and its descendants, from /proc."""

    def __init__(self, root: int) -> None:
        self.members = {root}
        self.strangers: set[int] = set()

    def sample(self) -> int:
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid in self.members or pid in self.strangers:
                continue
            parent = _parent(pid)
            if parent in self.members:
                self.members.add(pid)
            elif parent is not None:
                self.strangers.add(pid)
        total = 0
        for pid in list(self.members):
            try:
                with open(f"/proc/{pid}/statm") as statm:
                    total += int(statm.read().split()[1]) * PAGE
            except (OSError, IndexError, ValueError):
                continue  # it ended
        return total


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    return int(text[text.rfind(")") + 2 :].split()[1])


@dataclass
class Run:
    seconds: float
    tree_bytes: int  # sampled peak of the summed resident sets
    largest_bytes: int  # exact peak of the largest single process (wait4's ru_maxrss)
    cpu_seconds: float  # user and system time of the whole tree (wait4)
    code: int
    output: str


def measured(folder: Path, log: Path) -> Run:
    with log.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(argv(), cwd=folder, env=env(), stdout=out, stderr=subprocess.STDOUT)
        memory = TreeMemory(process.pid)
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, memory.sample())
            time.sleep(0.003)
        elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text(encoding="utf-8", errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(elapsed, peak, usage.ru_maxrss * 1024, cpu, process.returncode, output)


def network(folder: Path, log: Path) -> tuple[int, int, int] | None:
    """(processes run, git executions, inet connect/sendto calls) of one run, or None without strace."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    trace = [strace, "-f", "-qq", "-e", "trace=execve,connect,sendto,sendmsg", "-o", str(log)]
    subprocess.run([*trace, *argv()], cwd=folder, env=env(), capture_output=True, check=False)
    lines = log.read_text().splitlines()
    programs = [m.group(1) for line in lines if (m := re.search(r'execve\("([^"]+)"', line))]
    gits = sum(1 for p in programs if p.endswith("/git"))
    inet = sum(1 for line in lines if re.search(r"(connect|sendto|sendmsg)\(", line) and "AF_INET" in line)
    return len(programs), gits, inet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"{'tree':28} {'median s':>8} {'cpu s':>6} {'tree MB':>8} {'max proc MB':>11} {'exit':>4} {'execs':>5} "
        f"{'git':>3} {'inet':>4}  goal  error"
    )
    failed = 0
    for case in HOSTILE:
        failed += report(case, options.runs)
    print(
        f"\n{len(HOSTILE) - failed} of {len(HOSTILE)} trees end with their error in under {GOAL_SECONDS:g} s "
        f"and {GOAL_MB} MB with nothing on the network (median of {options.runs} runs, peak over them)"
    )


def report(case: Hostile, runs: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = case.build(Path(tmp))
        subprocess.run(argv(), cwd=folder, env=env(), capture_output=True, check=False)  # warm: byte code, caches
        results = [measured(folder, Path(tmp) / "output") for _ in range(runs)]
        calls = network(folder, Path(tmp) / "trace")
    seconds = statistics.median(r.seconds for r in results)
    tree_mb = max(r.tree_bytes for r in results) / 1e6
    largest = max(r.largest_bytes for r in results)
    cpu = statistics.median(r.cpu_seconds for r in results)
    error = one_error(results[0].output, case.expect)
    net_ok = calls is not None and calls[1] == 0 and calls[2] == 0
    ok = error is not None and seconds < GOAL_SECONDS and tree_mb < GOAL_MB and net_ok
    execs, gits, inet = (str(n) for n in calls) if calls else ("-", "-", "-")
    shown = (error or results[0].output.strip().splitlines()[0])[:110]
    print(
        f"{case.name:28} {seconds:8.2f} {cpu:6.2f} {tree_mb:8.0f} {largest / 1e6:11.0f} {results[0].code:4} {execs:>5} "
        f"{gits:>3} {inet:>4}  {'ok' if ok else 'MISS'}  {shown}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    main()
