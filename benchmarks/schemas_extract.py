"""Time `clusterforge schemas extract` on a CRD bundle: whole processes, start-up included.

Default input: the CloudNativePG chart's templates/crds/crds.yaml in the folder of upstream CRD files
`task schemas` reads (1.2 MB, 11 CRDs, a Helm template; see generator/crds/sources.yaml).
Each figure is the median of 5 runs into a fresh output folder, after one untimed run.

Run: python benchmarks/schemas_extract.py [CRD_FILE_OR_FOLDER ...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
sys.path.insert(0, str(ROOT))

from benchmarks.timing import timed_clusterforge  # noqa: E402
from generator.crds.bundle import sources_folder  # noqa: E402

DEFAULT = sources_folder() / "cloudnative-pg" / "crds.yaml"


def main() -> None:
    inputs = [str(Path(arg).resolve()) for arg in sys.argv[1:]] or [str(DEFAULT)]
    if not all(Path(arg).exists() for arg in inputs):
        sys.exit(f"no {', '.join(inputs)}: fetch it (generator/crds/sources.yaml says from where) or name a CRD file")
    size = sum(
        p.stat().st_size for arg in inputs for p in ([Path(arg)] if Path(arg).is_file() else Path(arg).rglob("*"))
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        timed_clusterforge(work, "schemas", "extract", *inputs, "--output", "warm-up")  # byte code; not counted
        runs = [timed_clusterforge(work, "schemas", "extract", *inputs, "--output", f"out-{n}") for n in range(RUNS)]
        written = sum(1 for p in (work / "out-0").rglob("*.json"))
        startup = [timed_clusterforge(work, "--version") for _ in range(RUNS)]
    print(f"input:                 {', '.join(inputs)} ({size / 1e6:.1f} MB)")
    print(f"schemas written:       {written}")
    print(f"schemas extract:       {statistics.median(runs) * 1000:6.0f} ms (median of {RUNS})")
    print(f"process start alone:   {statistics.median(startup) * 1000:6.0f} ms (median of {RUNS}, --version)")


if __name__ == "__main__":
    main()
