"""What apps of the user's own cost `clusterforge configure`: median of 5 whole processes.

Three repositories, each the shipped example on Flux (sops): without apps of its own; with the
tests' three (an OCI and an HTTPS app-template chart declared in `apps:`, values checked against the
app-template 4.1.1 schema when a schema location given holds it, and two folders written by hand); and with
those plus 100 more app folders written by hand. Two figures each: the usual no-op (the record of the
last run shows nothing changed) and a full no-op (that record removed: the settings are loaded, the
folders found, the apps checked and the tree rendered and compared again).
Run: python benchmarks/own_apps.py [SCHEMA_LOCATION ...]
(a location holding charts/app-template/4.1.1/values.schema.json, as CLUSTERFORGE_SCHEMA_LOCATION takes it)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import noop_medians, timed_clusterforge  # noqa: E402
from tests.test_own_apps import flux_app, own_apps_repo, write_files  # noqa: E402

RUNS = 5
MORE_FOLDERS = 100


def main() -> None:
    if sys.argv[1:]:
        os.environ["CLUSTERFORGE_SCHEMA_LOCATION"] = ",".join(sys.argv[1:])
    else:
        print("note: no schema location given: the apps' values are not checked against a chart schema")
    with tempfile.TemporaryDirectory() as tmp:
        many = own_apps_repo(Path(tmp) / "many", "flux")
        for index in range(MORE_FOLDERS):
            write_files(many.output, flux_app(f"tool-{index:03}", f"team-{index % 10}"))
        cases = {
            "no apps of its own": own_apps_repo(Path(tmp) / "none", "flux", apps="", own={}),
            "2 charts + 2 folders": own_apps_repo(Path(tmp) / "three", "flux"),
            f"... + {MORE_FOLDERS} folders": many,
        }
        for name, repo in cases.items():
            timed_clusterforge(repo.root, "configure")  # the first configure writes the tree
            fast, full = noop_medians(repo.root, RUNS)
            files = sum(1 for p in repo.output.rglob("*") if p.is_file())
            print(
                f"{name:<22} no-op {fast * 1000:5.0f} ms   "
                f"full no-op {full * 1000:5.0f} ms   ({files} files, median of {RUNS})"
            )
        for repo in cases.values():
            shutil.rmtree(repo.root)  # the benchmark's own scratch repositories


if __name__ == "__main__":
    main()
