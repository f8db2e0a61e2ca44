"""`clusterforge configure` in a repository of several clusters: every cluster (or those named) rendered,
validated, and written in one commit, so the repository never holds one cluster's new tree beside
another's old one. A cluster whose settings folder lost its cluster.yaml has its generated files removed.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

from generator import state
from generator.clusters.layout import Repository, cluster_folder, default_output, find, selected, sweep_records
from generator.configure import ConfigureResult, Mode, Prepared, lock_command, prepare
from generator.errors import CheckFailed, Problem, SettingsError, UsageError
from generator.plan import Action, Change, Plan, changed_files, generated_files
from generator.repolock import repository_lock
from generator.settings.load import shown_path
from generator.transaction import recover
from generator.transaction.commit import NewFile, commit
from generator.validate.defaults import for_cluster


@dataclass
class ClustersResult:
    results: dict[str, ConfigureResult]  # by cluster name, in name order
    removed: dict[str, Plan] = field(default_factory=dict)  # clusters whose cluster.yaml is gone
    applied: bool = False


def configure_clusters(
    root: Path,
    names: Sequence[str] = (),
    mode: Mode = Mode.WRITE,
    *,
    allow_salt_key_rotation: bool = False,
    unchanged: Collection[str] = (),
) -> ClustersResult:
    """``unchanged``: clusters the caller found unchanged since their last run (generator.state), under the
    same lock; they are not rendered again."""
    with repository_lock(root, lock_command(mode), read_only=mode is not Mode.WRITE):
        recover(root)  # a commit of several clusters that a killed run left half done
        repo = find(root)
        sweep_records(repo)
        chosen = [name for name in selected(repo, names) if name not in unchanged]
        # before anything is read from them: one cluster's files are not another's to decrypt or replace
        _check_outputs(repo.root, {name: repo.root / for_cluster(repo.root, name).output for name in repo.clusters})
        removed = {name: plan for name, plan in _leftover_plans(repo).items() if plan.pending} if not names else {}
        stale = [_removal_drift(name, plan) for name, plan in removed.items()] if mode is Mode.CHECK else []
        prepared = _prepare_all(repo, chosen, mode, allow_salt_key_rotation, stale)
        _check_outputs(repo.root, {name: each.target for name, each in prepared.items()})
        result = ClustersResult({name: p.result for name, p in prepared.items()}, removed)
        if mode is Mode.WRITE:
            result.applied = _commit(repo.root, list(prepared.values()), removed)
            for name in removed:
                _forget(repo.root, name)
        return result


def _removal_drift(name: str, plan: Plan) -> CheckFailed:
    """--check: the generated files of a removed cluster are still there."""
    shown = shown_path(plan.output)
    details = [f"remove: {shown}/{c.path}" for c in plan.pending]
    return CheckFailed(f"{shown}: cluster {name}'s cluster.yaml is gone, its generated files remain", details)


def _prepare_all(
    repo: Repository, names: list[str], mode: Mode, allow_rotation: bool, failed: list[CheckFailed]
) -> dict[str, Prepared]:
    """Each cluster rendered and checked; the settings problems of every cluster reported together, and so
    are the findings (--check drift, a tree that does not validate) of every cluster."""
    prepared: dict[str, Prepared] = {}
    found: dict[Problem, list[str]] = {}  # a problem in a shared file, once, with the clusters it breaks
    for name in names:
        try:
            prepared[name] = prepare(repo.config(name), None, mode, allow_rotation)
        except SettingsError as error:
            for problem in error.problems:
                found.setdefault(problem, []).append(name)
        except CheckFailed as error:
            failed.append(error)
    if found:
        raise SettingsError([_naming(problem, owners, repo) for problem, owners in found.items()])
    if failed:
        *first, last = failed
        raise CheckFailed(str(last), [line for error in first for line in error.lines()] + last.details)
    return prepared


def _naming(problem: Problem, clusters: list[str], repo: Repository) -> Problem:
    """A problem in a file shared by clusters (common.yaml, models.yaml) says which clusters it breaks; one in
    a cluster's own file names it already."""
    own = os.path.realpath(cluster_folder(repo.root, clusters[0])) + os.sep
    if len(clusters) == 1 and os.path.realpath(problem.file).startswith(own):
        return problem
    which = f"cluster {clusters[0]}" if len(clusters) == 1 else f"clusters {', '.join(clusters)}"
    return replace(problem, message=f"{problem.message} [{which}]")


def _check_outputs(root: Path, targets: dict[str, Path]) -> None:
    """Each cluster's tree in a folder of its own inside the repository."""
    owners: dict[Path, str] = {}
    for name, written in targets.items():
        target = Path(os.path.normpath(written))
        if os.path.relpath(target, root).startswith(".."):
            raise UsageError(f"cluster {name}: gitops.path puts its tree outside the repository ({target})")
        for other_target, other in owners.items():
            nested = other_target in target.parents or target in other_target.parents
            if target == other_target or nested:
                raise UsageError(
                    f"clusters {other} and {name} render into the same folder {shown_path(target)}: "
                    "give each its own gitops.path (the default is clusters/<name>/output)"
                )
        owners[target] = name


def _leftover_plans(repo: Repository) -> dict[str, Plan]:
    """Removal of the generated files of every cluster whose cluster.yaml is gone."""
    plans = {}
    for name in repo.leftovers():
        output = state.named_output(repo.config(name)) or repo.root / default_output(
            name
        )  # the record may be from another folder
        if not output.is_dir():
            continue
        changes = tuple(
            Change(path, Action.REMOVE, None, (output / path).read_bytes(), path.endswith(".sops.yaml"))
            for path in generated_files(output)
        )
        plans[name] = Plan(output, changes)
    return plans


def _commit(root: Path, prepared: list[Prepared], removed: dict[str, Plan]) -> bool:
    """One commit at the repository's top for every cluster's tree and records."""
    writes: dict[str, NewFile] = {}
    removes: list[str] = []
    records: dict[Path, bytes] = {}
    plans = [(p.result.plan, p) for p in prepared] + [(plan, None) for plan in removed.values()]
    for plan, each in plans:
        prefix = os.path.relpath(plan.output, root).replace(os.sep, "/")
        changed, gone = changed_files(plan)
        writes.update({f"{prefix}/{path}": new for path, new in changed.items()})
        removes += [f"{prefix}/{path}" for path in gone]
        if each is not None:
            records.update(each.records)
            each.result.applied = bool(plan.pending)
    commit(root, writes, removes, records)
    return bool(writes or removes)


def _forget(root: Path, name: str) -> None:
    """The local record of a removed cluster: the next run has nothing of it left to remove."""
    from generator.clusters.layout import settings_file  # noqa: PLC0415

    record = state.state_path(settings_file(root, name))
    for path in (record, record.with_name(record.name.replace(".state.json", ".sealed.json"))):
        with suppress(FileNotFoundError):
            path.unlink()
    with suppress(OSError):  # the lock file or something of the user's is still in it
        record.parent.rmdir()
