"""``validate(paths, options) -> Report``: read, build, check schemas, check references.

A file that a kustomization includes is checked through that kustomization's build (what Flux
and ArgoCD apply), with findings pointed back at the file it came from; every other file is
checked as written. Reading and schema checks run in worker processes when the input is large.
"""

from __future__ import annotations

import fnmatch
import gc
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import KeyPath, UsageError
from generator.validate import charts, ksops, refs_argocd, refs_flux, refs_network, refs_pods, sizes
from generator.validate.celrules import prepare_rules, rule_problems, rule_violations
from generator.validate.containment import Area, Refusals, SizeCheck, check_builds
from generator.validate.documents import Source, parse_stream
from generator.validate.fetch import Fetcher, cache_dir
from generator.validate.kustomization import KUSTOMIZATION_FILES, Kustomization, describe
from generator.validate.locations import Kind, bundled_location, missing_schema_hint, parse_location
from generator.validate.model import Engine, Finding, MissingSchemas, Options, Report, Severity
from generator.validate.parallel import Forked, split_by_size, usable_cores
from generator.validate.repo import Repo, make_repo
from generator.validate.resources import (
    Inventory,
    Resource,
    by_kind,
    group_of,
    helm_value_files,
    resolve_namespaces,
)
from generator.validate.scan import DocRow, Task, doc_row, header, scan, source_of
from generator.validate.schemacheck import hides_values, is_sops, violations, without_sops
from generator.validate.schemas import CoreSchemas, Lookup, SchemaStore, normalize_version

if TYPE_CHECKING:
    from generator.validate.kustomize import Build

PARALLEL_FROM_BYTES = 1_000_000  # below this, forking costs more than it saves


def absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def make_show(options: Options) -> Callable[[Path], str]:
    cwd = Path.cwd()

    def show(path: Path) -> str:
        if options.shown_as is not None:
            root, prefix = options.shown_as
            if path == root or root in path.parents:
                relative = path.relative_to(root).as_posix()
                return prefix if relative == "." else f"{prefix}/{relative}"
        if cwd in path.parents:
            return path.relative_to(cwd).as_posix()
        return str(path)

    return show


def collect_files(paths: Sequence[Path], exclude: Sequence[str]) -> list[Path]:
    """YAML files under ``paths``, minus the excluded ones; hidden files and folders and Helm charts skipped."""
    found: dict[Path, None] = {}
    for given in paths:
        path = absolute(given)
        if path.is_file():
            found[path] = None
            continue
        if not path.is_dir():
            raise UsageError(f"{given}: no such file or folder")
        for root, dirs, names in os.walk(path):
            if "Chart.yaml" in names and Path(root) != path:
                dirs[:] = []  # a Helm chart: its templates are rendered by Helm, they are not manifests
                continue
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith(".") or not (name.endswith((".yaml", ".yml")) or name == "Kustomization"):
                    continue
                file = Path(root) / name
                relative = file.relative_to(path).as_posix()
                if any(fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(name, p) for p in exclude):
                    continue
                found[file] = None
    return list(found)


@dataclass
class Plan:
    """Which files are kustomize configuration, which are resources, and which builds cover which."""

    kustomizations: dict[Path, Kustomization] = field(default_factory=dict)
    resource_files: list[Path] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)  # kustomizations no other one includes
    covered: dict[Path, Path] = field(default_factory=dict)  # file -> the root whose build holds it
    ksops_plan: ksops.Plan = field(default_factory=ksops.Plan)  # KSOPS generators, and the builds they allow
    unreadable: set[str] = field(default_factory=set)  # kustomization files that did not parse


def plan_files(files: list[Path], show: Callable[[Path], str], findings: list[Finding], area: Area) -> Plan:
    plan = Plan()
    configs: set[Path] = set()
    for file in files:
        if file.name not in KUSTOMIZATION_FILES:
            continue
        documents, errors = parse_stream(file, show(file))
        findings.extend(Finding(e.shown, e.line, "", Severity.ERROR, e.message) for e in errors)
        if errors:
            plan.unreadable.add(str(file))
        data = documents[0].data if documents else {}
        api_version = data.get("apiVersion") if isinstance(data, dict) else None
        if isinstance(api_version, str) and not api_version.startswith("kustomize.config.k8s.io/"):
            continue  # a Kubernetes object that happens to live in a file of that name
        configs.add(file)
        if file.parent not in plan.kustomizations:
            plan.kustomizations[file.parent] = describe(file, data, documents[0].source if documents else None)
    inputs = {p for k in plan.kustomizations.values() for p in k.inputs}
    input_dirs = [d for k in plan.kustomizations.values() for d in k.input_dirs]
    plan.resource_files = [
        f for f in files if f not in configs and f not in inputs and not any(d in f.parents for d in input_dirs)
    ]
    included = {d for k in plan.kustomizations.values() for d in k.resource_dirs}
    plan.roots = [d for d, k in plan.kustomizations.items() if k.kind != "Component" and d not in included]
    readable = set(plan.resource_files)
    for root in plan.roots:
        for file in _included_files(root, plan.kustomizations, set()):
            if file in readable:
                plan.covered.setdefault(file, root)
    plan.ksops_plan = ksops.plan(plan.kustomizations, show, area)
    findings.extend(ksops.check(plan.ksops_plan, plan.kustomizations, area))
    return plan


def _included_files(directory: Path, kustomizations: dict[Path, Kustomization], seen: set[Path]) -> Iterator[Path]:
    if directory in seen or directory not in kustomizations:
        return
    seen.add(directory)
    kustomization = kustomizations[directory]
    yield from kustomization.resource_files
    for sub in kustomization.resource_dirs:
        yield from _included_files(sub, kustomizations, seen)


@dataclass
class Missing:
    count: int
    first: Resource
    unavailable: str
    broken: str


@dataclass
class Collected:
    """What the reading phase found, gathered from every worker."""

    resources: list[Resource] = field(default_factory=list)
    violations: list[tuple[Resource, KeyPath, Severity, str]] = field(default_factory=list)
    rule_failures: list[tuple[Resource, KeyPath, Severity, str, str]] = field(default_factory=list)  # ..., CEL rule
    rule_problems: dict[tuple[str, str], tuple[Resource, list[str]]] = field(default_factory=dict)  # by kind
    missing: dict[tuple[str, str], Missing] = field(default_factory=dict)
    covered_rows: dict[str, list[DocRow]] = field(default_factory=dict)  # by absolute path
    read_errors: list[tuple[str, Finding]] = field(default_factory=list)  # by absolute path
    oversized: list[tuple[Resource, int | None, str]] = field(default_factory=list)  # with its line when known

    def add_missing(self, key: tuple[str, str], count: int, first: Resource, unavailable: str, broken: str) -> None:
        if key in self.missing:
            self.missing[key].count += count
        else:
            self.missing[key] = Missing(count, first, unavailable, broken)


def _merge(result: dict[str, Any], collected: Collected) -> None:
    rows: list[DocRow] = result["docs"]
    resources: dict[int, Resource] = {}
    for number, row in enumerate(rows):
        if row[10] is None:  # read only: its kustomization's build is checked instead
            collected.covered_rows.setdefault(row[0], []).append(row)
            continue
        resource = Resource(group_of(row[6]), row[7], row[8], row[9], row[10], source_of(row), row[1], row[0])
        resources[number] = resource
        collected.resources.append(resource)
    for number, path, severity, message, rule in result["violations"]:
        if rule is None:
            collected.violations.append((resources[number], tuple(path), Severity(severity), message))
        else:
            collected.rule_failures.append((resources[number], tuple(path), Severity(severity), message, rule))
    for key, (first, problems) in result["problems"].items():
        collected.rule_problems.setdefault((key[0], key[1]), (resources[first], problems))
    for path, shown, line, message in result["errors"]:
        collected.read_errors.append((path, Finding(shown, line, "", Severity.ERROR, message)))
    for key, (count, first, unavailable, broken) in result["missing"].items():
        collected.add_missing((key[0], key[1]), count, resources[first], unavailable, broken)


def _origin_source(
    origin: Path | None, kind: str, name: str, collected: Collected, show: Callable[[Path], str]
) -> Source | None:
    """The document a built object came from: same file, same kind, and its name (or the name in it)."""
    if origin is None:
        return None
    rows = collected.covered_rows.get(str(origin))
    if rows is None:  # a file outside the paths given (a base in ../), read now
        documents, _ = parse_stream(origin, show(origin))
        heads = [(document, header(document.data)) for document in documents]
        rows = [doc_row(document, head, None, False) for document, head in heads if not isinstance(head, str)]
        collected.covered_rows[str(origin)] = rows
    same_kind = [row for row in rows if row[7] == kind]
    for row in same_kind:
        if row[8] == name:
            return source_of(row)
    for row in same_kind:
        if row[8] in name:  # a namePrefix or nameSuffix
            return source_of(row)
    return source_of(same_kind[0]) if same_kind else None


def _check_built(
    build: Build,
    kustomization: Kustomization,
    store: SchemaStore | None,
    collected: Collected,
    findings: list[Finding],
    show: Callable[[Path], str],
) -> None:
    """The objects of a root's build: each one recorded, and checked against its schema and its size."""
    for built in build.objects:
        head = header(built.data)
        shown = show(built.origin or kustomization.file)
        if isinstance(head, str):
            findings.append(Finding(shown, None, "", Severity.ERROR, head))
            continue
        api_version, kind, name, namespace = head
        data = built.data
        sops = is_sops(data)
        if sops:
            data = without_sops(data)
        source = _origin_source(built.origin, kind, name, collected, show)
        origin = str(built.origin) if built.origin else None
        resource = Resource(
            group_of(api_version), kind, name, namespace, data, source, shown, origin, str(build.directory)
        )
        collected.resources.append(resource)
        too_big = sizes.too_big(resource.group, kind, data, sops) if build.large else None
        if too_big is not None:
            collected.oversized.append((resource, None, too_big))
        if store is None:
            continue
        lookup = store.for_kind(api_version, kind)
        if lookup.validator is None:
            collected.add_missing((api_version, kind), 1, resource, lookup.unavailable, lookup.broken)
            continue
        for path, severity, message in violations(lookup.validator, data, sops, hides_values(api_version, kind)):
            collected.violations.append((resource, path, severity, message))
        if lookup.rules is not None:
            _check_rules(lookup, resource, data, _valid(lookup, data), collected, sops)


def _check_rules(
    lookup: Lookup, resource: Resource, data: Any, valid: bool, collected: Collected, sops: bool = False
) -> None:
    """The object's CEL rules, and once per kind the rules its schema cannot evaluate."""
    kind = (str(data.get("apiVersion", "")), resource.kind)
    collected.rule_problems.setdefault(kind, (resource, rule_problems(lookup)))
    for path, severity, message, rule in rule_violations(lookup, data, valid, sops):
        collected.rule_failures.append((resource, path, severity, message, rule))


def _schema_findings(collected: Collected, policy: MissingSchemas, version: str, report: Report) -> Iterator[Finding]:
    for resource, path, severity, message in collected.violations:
        yield resource.finding(path, message, severity)
    for resource, path, severity, message, rule in collected.rule_failures:
        yield resource.finding(path, message, severity, rule=rule)
    for first, problems in collected.rule_problems.values():
        for problem in problems:
            yield first.finding((), problem, Severity.WARNING)
    for (api_version, kind), missing in sorted(collected.missing.items()):
        what = Kind.parse(api_version, kind)
        if missing.broken:
            yield missing.first.finding((), missing.broken)
            continue
        report.unchecked[str(what)] = missing.count
        if policy is MissingSchemas.IGNORE:
            continue
        plural = "object" if missing.count == 1 else "objects"
        message = f"no schema for {what} in Kubernetes {version}, the bundled schemas or the schema locations: "
        message += f"{missing.count} {plural} not checked"
        if missing.unavailable:
            message += f" ({missing.unavailable})"
        message += f"; {missing_schema_hint(what, version)}"
        severity = Severity.ERROR if policy is MissingSchemas.ERROR else Severity.WARNING
        yield missing.first.finding((), message, severity)


def _cross_references(
    inventory: Inventory,
    repo: Repo,
    store: SchemaStore,
    providers: refs_pods.Providers,
    releases: refs_network.Releases,
) -> Iterator[Finding]:
    if inventory.first_part:
        for first, second in inventory.duplicates:
            if first.build_root is not None and first.build_root == second.build_root:
                continue  # within one kustomization, kustomize reports it
            where = f"{first.source.shown}:{first.source.line_of(())}" if first.source else first.shown
            yield second.finding((), f"defined twice (also at {where})")
    yield from refs_flux.check(inventory, repo, providers)
    yield from refs_pods.check_workloads(inventory, providers)
    yield from charts.check(inventory, store, providers)
    yield from refs_network.check_routes(inventory, releases)
    yield from refs_network.check_service_monitors(inventory, releases)
    yield from refs_network.check_network_policies(inventory)
    yield from refs_argocd.check(inventory, repo)


def _checked_in_parts(inventory: Inventory, repo: Repo, store: SchemaStore, parts: int) -> list[Finding]:
    """The cross-checks, each process taking its share of the objects (forked: no data to send)."""
    providers = refs_pods.Providers(inventory)
    releases = refs_network.Releases(inventory)

    def share(part: int) -> list[tuple[str, int | None, str, str, str]]:
        inventory.part, inventory.parts = part, parts
        return [
            (f.file, f.line, f.resource, f.severity.value, f.message)
            for f in _cross_references(inventory, repo, store, providers, releases)
        ]

    forked = Forked(share, list(range(1, parts)))
    rows = share(0)
    for result in forked.results():
        rows += result
    return [
        Finding(file, line, resource, Severity(severity), message) for file, line, resource, severity, message in rows
    ]


def validate(paths: Sequence[Path], options: Options) -> Report:
    """Validate the YAML under ``paths``; usage problems raise UsageError, tool failures ToolError."""
    collecting = gc.isenabled()
    gc.disable()  # many small containers and no cycles among them: collections would only cost time
    try:
        return _validate(paths, options)
    finally:
        if collecting:
            gc.enable()


def _validate(paths: Sequence[Path], options: Options) -> Report:
    version = normalize_version(options.kubernetes_version)
    locations = [parse_location(entry) for entry in options.schema_locations]
    if options.bundled_schemas:
        locations.insert(0, bundled_location())
    show = make_show(options)
    repo = make_repo(options.repo_root, options.repo_urls, absolute(paths[0]) if paths else Path.cwd())
    area = Area.of([absolute(p) for p in paths], repo.root)  # nothing outside it is read
    files, findings = area.readable(collect_files(paths, options.exclude), show)
    cache = cache_dir(options.cache_dir)
    core = CoreSchemas(version, cache)
    store = SchemaStore(core, locations, Fetcher(cache), cel=not options.skip_cel)
    object_store = store if options.engine is Engine.BUILTIN else None  # kubeconform checks objects itself
    report = Report(files=len(files))
    plan = plan_files(files, show, findings, area)
    file_sizes = [_size(f) for f in plan.resource_files]
    jobs = options.jobs or (min(usable_cores(), 4) if sum(file_sizes) >= PARALLEL_FROM_BYTES else 1)
    buildable = [d for d, k in plan.kustomizations.items() if k.kind != "Component"]
    size_check = SizeCheck(show)
    refusals = check_builds(plan.kustomizations, buildable, area, show, size_check, set(plan.resource_files))
    findings += refusals.findings
    to_build = [d for d in buildable if d not in refusals.refused]
    report.kustomizations = len(to_build)
    # what a root that is not built would have covered is checked as written, in the same reading
    unbuilt = {f for f, root in plan.covered.items() if root in refusals.refused}

    readable = [(f, size) for f, size in zip(plan.resource_files, file_sizes, strict=True) if f not in refusals.hostile]
    tasks = [Task(str(f), show(f), f not in plan.covered or f in unbuilt) for f, _ in readable]
    chunks = split_by_size(tasks, [size for _, size in readable], jobs) if tasks else []
    if object_store is not None and not options.skip_cel and len(chunks) > 1:
        prepare_rules()  # once, before the workers fork, rather than once in each of them
    # workers send back only what the cross-checks read, unless kubeconform needs whole documents
    forked = Forked(partial(scan, store=object_store, pruned=object_store is not None), chunks[1:])  # before any thread
    builds = _start_builds(to_build, {d: show(d) for d in to_build}, frozenset(plan.ksops_plan.plugin_builds))
    collected = Collected()
    for result in [scan(chunks[0], object_store, pruned=False)] if chunks else []:
        _merge(result, collected)
    for result in forked.results():
        _merge(result, collected)
    if unbuilt:
        unbuilt_files = {str(f) for f in unbuilt}
        for resource in collected.resources:
            if resource.file in unbuilt_files:
                _as_if_built(resource, plan)
    findings += _about_files(refusals, collected, plan)
    _oversized(collected.resources, size_check, collected)
    findings += _use_builds(builds(), plan, object_store, collected, show, size_check)
    _place_generated(collected, plan, area)

    kinds = by_kind(collected.resources)
    inputs = helm_value_files(kinds, repo)  # read by Helm, not applied: not manifests
    if inputs:
        collected.resources = [r for r in collected.resources if r.file not in inputs]
        kinds = by_kind(collected.resources)
    findings += [finding for path, finding in collected.read_errors if path not in inputs]
    resolve_namespaces(collected.resources, kinds, repo)
    findings += [_size_finding(*entry) for entry in collected.oversized if entry[0].file not in inputs]
    if options.engine is Engine.KUBECONFORM:
        from generator.validate import kubeconform  # noqa: PLC0415 - only for that engine

        kubeconform.check(collected, core, locations, version)
        if not options.skip_cel:  # kubeconform ignores x-kubernetes-validations: evaluated here
            _rules_beside_kubeconform(collected, store)
    findings.extend(_schema_findings(collected, options.missing_schemas, version, report))
    inventory = Inventory(collected.resources)
    findings.extend(_checked_in_parts(inventory, repo, store, jobs))
    report.resources = len(inventory.by_key) + len(inventory.duplicates)
    report.inventory = inventory
    report.findings = sorted(set(findings), key=lambda f: (f.file, f.line or 0, f.resource, f.message))
    return report


def _rules_beside_kubeconform(collected: Collected, store: SchemaStore) -> None:
    """The CEL rules of every object whose schema has some, when kubeconform checked the schemas."""
    for resource in list(collected.resources):
        api_version = resource.data.get("apiVersion")
        if not isinstance(api_version, str):
            continue
        lookup = store.for_kind(api_version, resource.kind)
        if lookup.rules is not None:
            _check_rules(lookup, resource, resource.data, _valid(lookup, resource.data), collected)


def _valid(lookup: Lookup, data: Any) -> bool:
    try:
        return lookup.validator is not None and bool(lookup.validator.is_valid(data))
    except ValueError:  # a key that is not a string
        return False


def _about_files(refusals: Refusals, collected: Collected, plan: Plan) -> list[Finding]:
    """What the look before the builds found in YAML texts, except in files whose reading reported an error
    of its own (the same problem, said once)."""
    failed = {path for path, _ in collected.read_errors} | plan.unreadable
    return [f for path, found in refusals.about_files.items() if str(path) not in failed for f in found]


def _oversized(resources: list[Resource], size_check: SizeCheck, collected: Collected) -> None:
    """Objects as written that the API server would refuse for their size (each file looked at once)."""
    for resource in resources:
        if resource.source is None or resource.file is None:
            continue
        found = size_check.problems(resource.file).get(resource.source.start)
        if found is not None:
            collected.oversized.append((resource, found.line, found.message))


def _size_finding(resource: Resource, line: int | None, message: str) -> Finding:
    """Made once namespaces are known; a line found without composing a document that may be megabytes."""
    if line is None or resource.source is None:
        return resource.finding((), message)
    return Finding(resource.source.shown, line, resource.id, Severity.ERROR, message)


def _use_builds(
    builds: list[Build],
    plan: Plan,
    store: SchemaStore | None,
    collected: Collected,
    show: Callable[[Path], str],
    size_check: SizeCheck,
) -> list[Finding]:
    """Failed builds as findings; the objects of each root's build checked. What a failed root build would
    have covered is checked as written instead."""
    findings: list[Finding] = []
    failed_roots = []
    for build in builds:
        kustomization = plan.kustomizations[build.directory]
        if build.error is not None:
            message = f"kustomize build failed: {build.error}"
            findings.append(Finding(show(kustomization.file), None, "", Severity.ERROR, message))
            if build.directory in plan.roots:
                failed_roots.append(build.directory)
        elif build.directory in plan.roots:
            _check_built(build, kustomization, store, collected, findings, show)
    fallback = [Task(str(f), show(f), True) for f, root in plan.covered.items() if root in failed_roots]
    if fallback:
        before = len(collected.resources)
        _merge(scan(fallback, store, pruned=False), collected)
        for resource in collected.resources[before:]:
            _as_if_built(resource, plan)
        _oversized(collected.resources[before:], size_check, collected)
    return findings


def _as_if_built(resource: Resource, plan: Plan) -> None:
    """An object whose build failed, placed as the build would have: the root's (or its own kustomization's)
    ``namespace:``, and the root as where it was built."""
    file = Path(resource.file or "")
    root = plan.covered[file]
    resource.build_root = str(root)
    own = next((k for k in plan.kustomizations.values() if file in k.resource_files), None)
    namespace = plan.kustomizations[root].namespace or (own.namespace if own else None)
    if namespace:
        resource.declared = namespace


def _place_generated(collected: Collected, plan: Plan, area: Area) -> None:
    """What KSOPS generators make, where their kustomization's build would put it: the encrypted files
    they name (read as documents) and the Secrets of their ``secretFrom``."""
    if not plan.ksops_plan.generators:
        return
    for resource in collected.resources:
        directory = plan.ksops_plan.encrypted.get(Path(resource.file or ""))
        if directory is not None:
            _place(resource, directory, plan)
    for generator in plan.ksops_plan.generators:
        for data in ksops.secret_from(generator, area):
            metadata = data["metadata"]
            namespace = metadata.get("namespace")
            made = Resource("", "Secret", metadata["name"], namespace, data, None, generator.shown, None)
            _place(made, generator.directory, plan)
            collected.resources.append(made)


def _place(resource: Resource, directory: Path, plan: Plan) -> None:
    """An object made while building ``directory``: the root build that takes the folder in is where it
    was built; that root's ``namespace:`` (kustomize's outermost wins), else the folder's own, is its namespace."""
    root = next((r for r in plan.roots if directory in ksops.closure(r, plan.kustomizations)), directory)
    resource.build_root = str(root)
    namespace = (plan.kustomizations[root].namespace if root in plan.kustomizations else None) or (
        plan.kustomizations[directory].namespace
    )
    if namespace:
        resource.declared = namespace


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _start_builds(
    directories: list[Path], shown: dict[Path, str], plugin_builds: frozenset[Path]
) -> Callable[[], list[Build]]:
    """Start ``kubectl kustomize`` for each folder in a thread; the returned call waits for the builds."""
    if not directories:
        return list
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only when there is something to build

    from generator.validate.kustomize import build_dirs  # noqa: PLC0415

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(build_dirs, directories, shown, plugin_builds)

    def wait() -> list[Build]:
        try:
            return future.result()
        finally:
            pool.shutdown(wait=True)  # no thread may outlive this: the cross-checks fork afterwards

    return wait
