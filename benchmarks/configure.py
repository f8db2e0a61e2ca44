"""Time `clusterforge configure` on the shipped example: a first run into an empty output, and a no-op.

Each figure is the median of 5 runs of a whole process (start-up included).
Run: python benchmarks/configure.py
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
sys.path.insert(0, str(ROOT))

from benchmarks.timing import timed_clusterforge  # noqa: E402
from tests.conftest import copy_example  # noqa: E402


def main() -> None:
    first: list[float] = []
    noop: list[float] = []
    files = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        copy_example(work)
        for _ in range(RUNS):
            output = work / "output"
            if output.exists():
                shutil.rmtree(output)  # the benchmark's scratch copy
            first.append(timed_clusterforge(work, "configure", "--config", "cluster.example.yaml"))
        files = sum(1 for p in (work / "output").rglob("*") if p.is_file())
        for _ in range(RUNS):
            noop.append(timed_clusterforge(work, "configure", "--config", "cluster.example.yaml"))
        startup = [timed_clusterforge(work, "--version") for _ in range(RUNS)]
    print(f"generated files:        {files}")
    print(f"first configure:        {statistics.median(first) * 1000:7.0f} ms (median of {RUNS})")
    print(f"no-op configure:        {statistics.median(noop) * 1000:7.0f} ms (median of {RUNS})")
    print(f"process start (--version): {statistics.median(startup) * 1000:4.0f} ms (median of {RUNS})")


if __name__ == "__main__":
    main()
