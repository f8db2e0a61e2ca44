"""The one way the benchmarks time a whole `clusterforge` process."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path


def noop_medians(root: Path, runs: int) -> tuple[float, float]:
    """Median seconds of a no-op `configure` in ``root`` (its record shows nothing changed), and of a full
    no-op (that record removed first, so everything is loaded, rendered and compared again)."""
    fast = [timed_clusterforge(root, "configure") for _ in range(runs)]
    full = []
    for _ in range(runs):
        (root / ".clusterforge" / "cluster.yaml.state.json").unlink()
        full.append(timed_clusterforge(root, "configure"))
    return statistics.median(fast), statistics.median(full)


def timed_clusterforge(cwd: Path, *args: str) -> float:
    """Seconds one `python -m generator ARGS` run takes in `cwd`; a failed run stops the benchmark with its stderr."""
    start = time.perf_counter()
    argv = [sys.executable, "-m", "generator", *args]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"clusterforge {' '.join(args)} failed in {cwd} (rc {done.returncode}):\n{done.stderr}")
    return elapsed
