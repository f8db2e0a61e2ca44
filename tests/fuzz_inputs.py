"""Fuzz the inputs a user writes (cluster.yaml, models.yaml) and judge what clusterforge answers.

A verdict per mutation: the exit code, whether a traceback was printed, and the error lines of an
exit 2 that do not start with ``FILE:LINE:COL:``. In-process runs go through click's test runner
into the real command line (the same ``run()`` error handler, the same exit codes); ``--cli`` runs
spawn the installed program.

    python -m tests.fuzz_inputs [--count 1000] [--cli 100] [--seed 11] [--show 5]   # in the checkout

prints, per file, the number of mutations, the histogram of exit codes and the failures.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from generator.cli import cli
from generator.init import init
from tests.yaml_mutations import Mutation, mutations

CHECKOUT = Path(__file__).resolve().parents[1]

# the command a user runs after editing the settings; --dry-run writes nothing, so runs are independent
CONFIGURE = ("configure", "--dry-run")
# what every command reads first: the settings, the models file and the secrets file (decrypted)
LOAD = ("secrets", "verify")
FUZZED_FILES = ("cluster.yaml", "models.yaml")
API_KEYS = {"openai": "sk-fuzz-openai", "anthropic": "sk-fuzz-anthropic"}
LOCATED = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): ")
NOTE = re.compile(r"^(warning|note): ")

# validate: a tree of the test corpus, each of its files mutated in turn; its findings are FILE:LINE
VALIDATE_TREE = CHECKOUT / "tests" / "validate" / "valid" / "flux-apps"
VALIDATE = ("validate", ".", "--repo-root", ".", "--ignore-missing-schemas")
READ_FINDING = re.compile(r"invalid YAML|not UTF-8|not allowed in YAML|too large|aliases|duplicate key|ends a line")
LOCATED_FINDING = re.compile(r"^[^\s:][^:]*:\d+: ")


@dataclass(frozen=True)
class Verdict:
    mutation: Mutation
    file: str
    exit_code: int
    output: str
    traceback: bool
    unlocated: tuple[str, ...]  # lines of an exit-2 answer without FILE:LINE:COL (validate: YAML findings)

    @property
    def failed(self) -> bool:
        # 4 is a bug; anything outside 0-4 is a crash, a signal (e.g. out of memory) or a timeout
        return self.exit_code not in (0, 1, 2, 3) or self.traceback or bool(self.unlocated)


def make_repository(root: Path) -> Path:
    """A repository as `clusterforge init` leaves it, with the API keys its models name."""
    root.mkdir(parents=True, exist_ok=True)
    init(root)
    from generator.secrets.sops import Sops
    from generator.secrets.store import SecretsFile

    secrets = SecretsFile(root / "cluster.secrets.sops.yaml", Sops(root / ".sops.yaml", root / "age.key", root))
    for name, value in API_KEYS.items():
        secrets.add(name, value)
    return root


def unlocated_lines(exit_code: int, output: str) -> tuple[str, ...]:
    if exit_code != 2:
        return ()
    lines = [line for line in output.splitlines() if line.strip() and not NOTE.match(line)]
    return tuple(line for line in lines if not LOCATED.match(line))


def unlocated_findings(_exit_code: int, output: str) -> tuple[str, ...]:
    """validate's findings about a file's YAML that name no line (a failed build is about its folder)."""
    return tuple(
        line
        for line in output.splitlines()
        if READ_FINDING.search(line) and not LOCATED_FINDING.match(line) and "kustomize build failed" not in line
    )


Locate = Callable[[int, str], tuple[str, ...]]


def judge(mutation: Mutation, file: str, exit_code: int, output: str, locate: Locate = unlocated_lines) -> Verdict:
    return Verdict(
        mutation,
        file,
        exit_code,
        output,
        "Traceback (most recent call last)" in output,
        locate(exit_code, output),
    )


def run_in_process(root: Path, args: Sequence[str]) -> tuple[int, str]:
    old = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    finally:
        os.chdir(old)
    output = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # an exception the error handler let through: the real program would print a traceback
        output += f"\nTraceback (most recent call last):\n  {type(result.exception).__name__}: {result.exception}"
        return 1, output
    return result.exit_code, output


MEMORY_LIMIT = 3 << 30  # a hostile input that needs more is a failure to report, not a reason to stall the machine
TIMEOUT = 120
TIMED_OUT = -1


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_program(root: Path, args: Sequence[str]) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}  # this checkout's clusterforge, whatever is installed
    try:
        done = subprocess.run(
            [sys.executable, "-m", "generator", *args],
            cwd=root,
            env=env,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
            preexec_fn=_bounded,  # no threads run here, so a pre-exec hook is safe
        )
    except subprocess.TimeoutExpired:
        return TIMED_OUT, f"timed out after {TIMEOUT}s"
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")


@dataclass
class Campaign:
    """Mutations of one file of one repository, each judged after ``command``; the file restored after each."""

    root: Path
    file: str
    command: tuple[str, ...] = CONFIGURE
    locate: Locate = unlocated_lines

    def run(self, count: int, seed: int, *, program: bool = False) -> list[Verdict]:
        original = (self.root / self.file).read_bytes()
        return self.judge_all(list(mutations(original, count, seed)), program=program)

    def judge_all(self, batch: Sequence[Mutation], *, program: bool = False) -> list[Verdict]:
        path = self.root / self.file
        original = path.read_bytes()
        verdicts = []
        try:
            for mutation in batch:
                path.write_bytes(mutation.data)
                exit_code, output = (run_program if program else run_in_process)(self.root, self.command)
                verdicts.append(judge(mutation, self.file, exit_code, output, self.locate))
        finally:
            path.write_bytes(original)
        return verdicts


def validate_tree(root: Path) -> Path:
    """A copy of the corpus tree to mutate, a git repository of its own."""
    shutil.copytree(VALIDATE_TREE, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def validate_campaigns(root: Path) -> list[Campaign]:
    """One campaign per YAML file of the tree, each judged by `clusterforge validate`."""
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yaml") if ".git" not in p.parts)
    return [Campaign(root, file, VALIDATE, unlocated_findings) for file in files]


def histogram(verdicts: Sequence[Verdict]) -> str:
    counts = Counter(v.exit_code for v in verdicts)
    return ", ".join(f"exit {code}: {counts[code]}" for code in sorted(counts))


def report(label: str, verdicts: Sequence[Verdict], seconds: float, show: int) -> list[str]:
    failed = [v for v in verdicts if v.failed]
    lines = [
        f"{label}: {len(verdicts)} mutations in {seconds:.1f}s; {histogram(verdicts)}",
        f"  exit 4: {sum(v.exit_code == 4 for v in verdicts)}, "
        f"crashed or timed out: {sum(v.exit_code not in range(5) for v in verdicts)}, "
        f"tracebacks: {sum(v.traceback for v in verdicts)}, "
        f"answers with an error lacking its place: {sum(bool(v.unlocated) for v in verdicts)}",
    ]
    kinds = Counter(v.mutation.kind for v in failed)
    if kinds:
        lines.append("  failures by kind: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    for verdict in failed[:show]:  # the mutation is reproducible from its number and the seed
        first = (verdict.unlocated or verdict.output.strip().splitlines() or ["(no output)"])[0]
        lines.append(f"  #{verdict.mutation.number} {verdict.mutation.kind}: exit {verdict.exit_code}: {first[:200]}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="in-process mutations per file")
    parser.add_argument("--cli", type=int, default=100, help="mutations per file run through the real program")
    parser.add_argument("--validate", type=int, default=20, help="mutations per file of a tree validate reads")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--show", type=int, default=5, help="failures shown per file")
    parser.add_argument("--file", dest="files", action="append", choices=FUZZED_FILES, help="only this file")
    parser.add_argument("--dir", type=Path, default=None, help="where to make the repository [default: a temp dir]")
    options = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="clusterforge-fuzz-") as scratch:
        root = make_repository((options.dir or Path(scratch)) / "repo")
        failed = 0
        for file in options.files or FUZZED_FILES:
            for program, count in ((False, options.count), (True, options.cli)):
                if count <= 0:
                    continue
                start = time.perf_counter()
                verdicts = Campaign(root, file).run(count, options.seed, program=program)
                label = f"{file} ({'the clusterforge program' if program else 'in-process'})"
                print("\n".join(report(label, verdicts, time.perf_counter() - start, options.show)), flush=True)
                failed += sum(v.failed for v in verdicts)
        if options.validate > 0:
            start = time.perf_counter()
            tree = validate_tree(Path(scratch) / "tree")
            verdicts = [v for c in validate_campaigns(tree) for v in c.run(options.validate, options.seed)]
            label = f"validate, each of {len(validate_campaigns(tree))} files of a Flux tree (in-process)"
            print("\n".join(report(label, verdicts, time.perf_counter() - start, options.show)), flush=True)
            failed += sum(v.failed for v in verdicts)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
