"""All or nothing, measured: kill -9 at every write syscall of a 66-file configure, races, random kills.

1. Every write syscall the configure's main thread makes (N of them, from one traced run): for each,
   a fresh copy of the scenario, `configure` killed by strace at that very call, then `configure
   --check`; the whole output folder is compared with the old tree and the new one (tests/crashsafety).
2. Two `configure` started at once on the changed scenario, RACES times; then once more with
   CLUSTERFORGE_LOCK_TIMEOUT=0.3 to show the message of the run that gives up.
3. `configure` killed with SIGKILL at a random moment, KILLS times; what is left in TMPDIR after
   the next run.

Run: python benchmarks/crash_safety.py [--races 20] [--kills 40] [--every N]  (needs strace; about
40 minutes for all N on two cores). --every 10 tries every tenth call only.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crashsafety import STRACE, Scenario, kill_after, kill_at, race, write_calls  # noqa: E402


def sweep(scenario: Scenario, work: Path, tmpdir: Path, every: int) -> None:
    calls = write_calls(scenario, work, tmpdir)
    print(f"write syscalls of the configure (N): {len(calls)}")
    print(f"  by syscall: {dict(Counter(c.syscall for c in calls).most_common())}")
    print(f"  by phase:   {dict(Counter(c.phase for c in calls).most_common())}")
    chosen = calls[::every]
    trees: Counter[str] = Counter()
    missed, left, inconsistent = [], 0, 0
    started = time.perf_counter()
    for index, call in enumerate(chosen, 1):
        outcome = kill_at(scenario, work, tmpdir, call)
        trees[outcome.tree] += 1
        left += bool(outcome.left)
        inconsistent += not outcome.consistent
        if not (outcome.killed and outcome.hit):
            missed.append(call)
        if outcome.tree == "mixed" or outcome.left or not outcome.consistent:
            print(f"  FAILED at {call}: {outcome}", flush=True)
        if index % 25 == 0:
            print(
                f"  ... {index}/{len(chosen)} runs, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True
            )
    which = f" (every {every}th)" if every > 1 else ""
    print(f"kill -9 at K = 1..N{which}: {len(chosen)} runs (+ {len(chosen)} next runs)")
    print(f"  killed at the very call aimed at:   {len(chosen) - len(missed)} of {len(chosen)}")
    print(f"  old tree after the next run:        {trees['old']}")
    print(f"  new tree after the next run:        {trees['new']}")
    print(f"  mixed trees:                        {trees['mixed']}")
    print(f"  runs leaving temporary files:       {left}")
    print(f"  --check verdict not matching tree:  {inconsistent}")
    print(f"  time: {time.perf_counter() - started:.0f} s")
    for call in missed[:10]:
        print(f"  missed: {call}")


def races(scenario: Scenario, work: Path, tmpdir: Path, count: int) -> None:
    codes: Counter[int] = Counter()
    trees: Counter[str] = Counter()
    waited = left = 0
    for _ in range(count):
        result = race(scenario, work, tmpdir)
        codes.update(result.codes)
        trees[result.tree] += 1
        waited += sum("; waiting up to" in err for err in result.stderr)
        left += bool(result.left)
    lost = count - trees["new"]
    print(f"two configures at once, moving LiteLLM to another namespace: {count} trials")
    print(f"  exit codes: {dict(codes)}; exit 4: {codes[4]}")
    print(f"  trees that are not the complete new rendering (lost files): {lost}; runs leaving temporary files: {left}")
    print(f"  runs that waited for the other: {waited}")
    timed_out = race(scenario, work, tmpdir, {"CLUSTERFORGE_LOCK_TIMEOUT": "0.3"})
    loser = timed_out.codes.index(1) if 1 in timed_out.codes else 0
    print(
        f"  with CLUSTERFORGE_LOCK_TIMEOUT=0.3: exit codes {timed_out.codes}, tree {timed_out.tree}; the waiting run:"
    )
    for line in timed_out.stderr[loser].strip().splitlines():
        print(f"    {line}")


def random_kills(scenario: Scenario, work: Path, tmpdir: Path, count: int) -> None:
    chance = random.Random(20)
    trees: Counter[str] = Counter()
    scratch = temps = 0
    for _ in range(count):
        outcome = kill_after(scenario, work, tmpdir, chance.uniform(0.1, 3.5))
        trees[outcome.tree] += 1
        scratch += any("clusterforge-run-" in p for p in outcome.left)
        temps += bool(outcome.left)
    print(f"kill -9 at a random moment (0.1-3.5 s into the run): {count} trials")
    print(f"  trees: {dict(trees)}; runs leaving scratch folders in TMPDIR after the next run: {scratch}")
    print(f"  runs leaving any temporary file or folder: {temps}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="Try every Nth write syscall only.")
    parser.add_argument("--races", type=int, default=20)
    parser.add_argument("--kills", type=int, default=40)
    options = parser.parse_args()
    if STRACE is None:
        raise SystemExit("strace is not installed (apt-get install strace)")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        scenario = Scenario.build(base / "scenario")
        print(f"scenario: {dict(scenario.changed_files())} files, {len(scenario.fresh)} secret files encrypted afresh")
        work, tmpdir = base / "work", base / "tmp"
        sweep(scenario, work, tmpdir, options.every)
        races(scenario, work, tmpdir, options.races)
        random_kills(scenario, work, tmpdir, options.kills)


if __name__ == "__main__":
    main()
