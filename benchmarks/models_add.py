"""Time `clusterforge models add` on a models.yaml of 500 models (whole process, median of 5).

Run: python benchmarks/models_add.py
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import timed_clusterforge  # noqa: E402
from tests.conftest import MINIMAL, make_repo  # noqa: E402

RUNS = 5
MODELS = 500


def main() -> None:
    entries = "".join(
        f"  # model {i}\n  - name: m{i}\n    provider: openai\n    model: gpt-4o\n"
        f"    credential: openai\n    rpm: {i + 1}\n\n"
        for i in range(MODELS)
    )
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp) / "repo", MINIMAL.split("models:")[0] + "models: models.yaml\n")
        original = "# benchmark\nmodels:\n" + entries
        for run in range(RUNS):
            (repo.root / "models.yaml").write_text(original)
            times.append(
                timed_clusterforge(
                    repo.root,
                    *("models", "add", "--name", f"new{run}", "--provider", "openai"),
                    *("--model", "o3", "--credential", "openai"),
                )
            )
        shutil.rmtree(repo.root)  # the benchmark's own scratch repository
    print(f"models add on a {MODELS}-model models.yaml: {statistics.median(times) * 1000:.0f} ms (median of {RUNS})")


if __name__ == "__main__":
    main()
