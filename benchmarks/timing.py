"""The one way the benchmarks time a whole `clusterforge` process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def timed_clusterforge(cwd: Path, *args: str) -> float:
    """Seconds one `python -m generator ARGS` run takes in `cwd`; a failed run stops the benchmark with its stderr."""
    start = time.perf_counter()
    argv = [sys.executable, "-m", "generator", *args]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"clusterforge {' '.join(args)} failed in {cwd} (rc {done.returncode}):\n{done.stderr}")
    return elapsed
