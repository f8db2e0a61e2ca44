"""No-op `clusterforge configure` with each secrets provider: median of 5 whole processes.

Two figures per provider: the usual no-op (the record of the last run in .clusterforge/ shows nothing
changed) and a full no-op (that record removed, so the tree is rendered again and every secret is
compared: sops decrypts each one, sealed-secrets reads its digest record, external-secrets has no values).
Run: python benchmarks/providers.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import noop_medians, timed_clusterforge  # noqa: E402
from tests.conftest import BASE_SECRETS, MINIMAL, make_repo  # noqa: E402
from tests.test_secret_providers import controller_key  # noqa: E402

RUNS = 5
HEAD = MINIMAL.split("models:")[0]
MODELS = "models:" + MINIMAL.split("models:")[1]
PROVIDERS = {
    "sops": "",
    "sealed-secrets": "secrets:\n  provider: sealed-secrets\n  sealed:\n    cert: sealed-secrets.pem\n",
    "external-secrets": (
        "secrets:\n  provider: external-secrets\n  external:\n    vault:\n"
        "      server: https://vault.example.org\n      auth: {role: external-secrets}\n"
    ),
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for provider, section in PROVIDERS.items():
            repo = make_repo(Path(tmp) / provider, HEAD + section + MODELS, dict(BASE_SECRETS))
            controller_key(repo.root)
            timed_clusterforge(repo.root, "configure")  # the first configure writes the tree
            fast, full = noop_medians(repo.root, RUNS)
            files = sum(1 for p in repo.output.rglob("*") if p.is_file())
            print(
                f"{provider:<17} no-op {fast * 1000:5.0f} ms   "
                f"full no-op {full * 1000:5.0f} ms   ({files} files, median of {RUNS})"
            )
            shutil.rmtree(repo.root)  # the benchmark's own scratch repository


if __name__ == "__main__":
    main()
