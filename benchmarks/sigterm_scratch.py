"""SIGTERM at random moments of a 66-file configure: does the run's scratch folder go with it?

The scenario of tests/crashsafety (a configured repository, then a change); each trial runs `configure` on a
fresh copy with its own TMPDIR, sends SIGTERM after a random delay, waits, and looks for `clusterforge-*`
folders left in TMPDIR before any other run could sweep them.
Run: python benchmarks/sigterm_scratch.py [--trials 40] [--seed 11] [--from-ms 400] [--to-ms 2000]
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crashsafety import Scenario, command, environment, reset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--from-ms", type=int, default=400)
    parser.add_argument("--to-ms", type=int, default=2000)
    args = parser.parse_args()
    moments = random.Random(args.seed).choices(range(args.from_ms, args.to_ms + 1), k=args.trials)
    codes: Counter[int] = Counter()
    left = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        scenario = Scenario.build(base / "scenario")
        work, tmpdir = base / "work", base / "tmp"
        for moment in moments:
            scenario.fresh_copy(work)
            reset(tmpdir)
            quiet = subprocess.DEVNULL
            process = subprocess.Popen(
                command("configure"), cwd=work, env=environment(tmpdir), stdout=quiet, stderr=quiet
            )
            time.sleep(moment / 1000)
            process.send_signal(signal.SIGTERM)
            codes[process.wait()] += 1
            found = sorted(p.name for p in tmpdir.iterdir() if p.name.startswith("clusterforge-"))
            if found:
                left.append((moment, found))
    print(f"SIGTERM at {args.trials} random moments ({args.from_ms}-{args.to_ms} ms into configure, seed {args.seed})")
    print(f"  exit codes: {dict(sorted(codes.items()))} (-15: died of SIGTERM, 0: finished first)")
    print(f"  runs leaving a scratch folder in TMPDIR: {len(left)}")
    for moment, names in left:
        print(f"    at {moment} ms: {', '.join(names)}")


if __name__ == "__main__":
    main()
