"""What the ``validate`` command does between its flags and its output: defaults, options, rendering."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

from generator import scratch
from generator.clusters.layout import find, is_repository
from generator.errors import UsageError
from generator.transaction import recover
from generator.validate.defaults import for_cluster, from_settings
from generator.validate.locations import from_environment
from generator.validate.model import DEFAULT_KUBERNETES_VERSION, Engine, MissingSchemas, Options, Report
from generator.validate.output import as_json, as_text
from generator.validate.run import validate


@dataclass
class Outcome:
    text: str  # the report as text or JSON
    failed: bool  # errors, or warnings with ``strict``
    report: Report | None  # holds every object read: a process that ends with exit_now() never frees them


def run_validate(
    paths: Sequence[Path],
    *,
    schema_locations: Sequence[str] = (),
    bundled_schemas: bool = True,
    kubernetes_version: str | None = None,
    ignore_missing_schemas: bool = False,
    strict: bool = False,
    output: str = "text",
    engine: str = "builtin",
    repo_root: Path | None = None,
    repo_urls: Sequence[str] = (),
    exclude: Sequence[str] = (),
    jobs: int = 0,
    skip_cel: bool = False,
) -> Outcome:
    """Validate with the command's defaults: the bundled CRD schemas first, then schema locations from the
    environment, the Kubernetes version and the output folder from a cluster.yaml in the working directory."""
    options = Options(
        schema_locations=tuple(schema_locations) or from_environment(),
        bundled_schemas=bundled_schemas,
        kubernetes_version=kubernetes_version or DEFAULT_KUBERNETES_VERSION,
        missing_schemas=MissingSchemas.IGNORE if ignore_missing_schemas else MissingSchemas.ERROR,
        engine=Engine(engine),
        repo_root=repo_root,
        repo_urls=tuple(repo_urls),
        exclude=tuple(exclude),
        jobs=jobs,
        skip_cel=skip_cel,
    )
    if is_program():
        gc.disable()  # the process ends after this report: collections would only cost time
    if not paths and is_repository(Path.cwd()):
        return _each_cluster(Path.cwd(), options, kubernetes_version, output, strict)
    defaults = from_settings(Path.cwd())
    if kubernetes_version is None:
        options = replace(options, kubernetes_version=defaults.kubernetes_version)
    targets = list(paths) or [Path(defaults.output)]
    for target in {*targets, Path(defaults.output)}:
        recover(target)  # a commit that a killed configure left half done: read the old tree or the new one
    report = validate(targets, options)
    text = as_json(report, strict) if output == "json" else as_text(report)
    return Outcome(text, report.failed(strict), report)


def _each_cluster(root: Path, options: Options, version: str | None, output: str, strict: bool) -> Outcome:
    """Every cluster of a repository of several, each tree on its own (they are separate clusters: the same
    object in two of them is no conflict), with each cluster's Kubernetes version."""
    recover(root)  # a commit of several clusters that a killed configure left half done
    texts: dict[str, str] = {}
    failed = False
    report = None
    for name in find(root).clusters:
        defaults = for_cluster(root, name)
        target = Path(defaults.output)
        if not target.is_dir():
            missing = f"{target}: no rendered tree yet; run `clusterforge configure`"
            texts[name] = json.dumps({"ok": False, "error": missing}) if output == "json" else missing + "\n"
            failed = True
            continue
        recover(target)
        report = validate([target], replace(options, kubernetes_version=version or defaults.kubernetes_version))
        failed = failed or report.failed(strict)
        texts[name] = as_json(report, strict) if output == "json" else as_text(report)
    if not texts:
        raise UsageError("clusters/: no cluster to validate yet; add one with `clusterforge init --cluster NAME`")
    if output == "json":
        text = json.dumps({"clusters": {name: json.loads(each) for name, each in texts.items()}}, indent=2) + "\n"
    else:
        text = "".join(f"cluster {name}: {each}" for name, each in texts.items())
    return Outcome(text, failed, report)


def is_program() -> bool:
    """Whether this process is the clusterforge program itself, not a test runner calling the command."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    return started.name == "clusterforge" or (started.name == "__main__.py" and started.parent.name == "generator")


def exit_now(code: int) -> NoReturn:
    """End the process without tearing the interpreter down: freeing a large tree's objects one by one
    costs more than a small run takes. Output is flushed and this run's scratch folder removed first."""
    sys.stdout.flush()
    sys.stderr.flush()
    scratch.remove()  # the one exit handler that matters: this run's scratch folder
    os._exit(code)
