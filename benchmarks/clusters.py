"""Time `clusterforge configure` in repositories of 1, 3 and 10 clusters, each the example stack
(`init --cluster` settings, its own age key and secrets file), full and no-op.

full: every cluster rendered, validated and written in one commit (outputs and records removed first);
no-op: nothing changed since (the records answer). Each figure is the median of RUNS whole processes.
Run: python benchmarks/clusters.py [--runs N] [--sizes 1,3,10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import timed_clusterforge  # noqa: E402


def make_repository(root: Path, size: int) -> list[str]:
    """A repository of ``size`` clusters, every secret set; returns the cluster names."""
    names = [f"c{index:02d}" for index in range(1, size + 1)]
    for name in names:
        timed_clusterforge(root, "init", "--cluster", name)
    for secret in ("openai", "anthropic"):  # into every cluster's file, each encrypted to its own key
        done = subprocess.run(
            [sys.executable, "-m", "generator", "secrets", "set", secret, "--from-stdin"],
            cwd=root,
            input=f"sk-benchmark-{secret}\n",
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"secrets set {secret} failed (rc {done.returncode}):\n{done.stderr}")
    return names


def forget(root: Path, names: list[str]) -> None:
    """Each cluster's output and record gone: the next configure does everything."""
    for name in names:
        folder = root / "clusters" / name
        shutil.rmtree(folder / "output", ignore_errors=True)
        shutil.rmtree(folder / ".clusterforge", ignore_errors=True)


def measure(size: int, runs: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = make_repository(root, size)
        full = []
        for _ in range(runs):
            forget(root, names)
            full.append(timed_clusterforge(root, "configure"))
        noop = [timed_clusterforge(root, "configure") for _ in range(runs)]
        files = sum(1 for p in (root / "clusters").rglob("output/**/*") if p.is_file())
    return statistics.median(full), statistics.median(noop), files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1,3,10")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'clusters':>8} {'files':>6} {'full ms':>9} {'per cluster':>12} {'no-op ms':>9} {'per cluster':>12}")
    rows = []
    for size in sizes:
        full, noop, files = measure(size, args.runs)
        rows.append((size, full, noop))
        print(
            f"{size:>8} {files:>6} {full * 1000:>9.0f} {full * 1000 / size:>12.0f} "
            f"{noop * 1000:>9.0f} {noop * 1000 / size:>12.0f}"
        )
    print(f"(median of {args.runs} runs each; whole processes, start-up included)")
    (small, small_full, small_noop), (large, large_full, large_noop) = rows[0], rows[-1]
    print(
        f"{large} clusters against {small}: full {large_full / small_full:.2f}x, no-op {large_noop / small_noop:.2f}x "
        f"(linear: {large / small:.0f}x)"
    )


if __name__ == "__main__":
    main()
