"""What configure refuses about the user's apps, before anything is rendered or written.

Each is a problem at the setting (`cluster.yaml:LINE:COL: apps[N]...: ...`, exit 2): an app named
like one clusterforge generates or like a folder or Application of the user's; a namespace whose
folder is the user's own; dependsOn naming nothing, the migration hook, the app itself, or going in
a circle; a Secret name taken in the namespace; a value from the secrets file that ``values`` also
sets; values from the secrets file with ArgoCD; values the chart's schema refuses (values.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from generator.apps import build_stack
from generator.apps import names as generated
from generator.apps.cache import cache_namespace
from generator.engines.order import holds_hook
from generator.errors import KeyPath, Problem, SettingsError, dotted
from generator.settings.apps import ChartApp, secret_leaves
from generator.settings.load import LoadedSettings
from generator.settings.models import Settings
from generator.settings.rule import RuleProblem
from generator.stack import Stack
from generator.userapps.build import values_secret_name
from generator.userapps.discover import APPS, HandWritten, TreePlace, discover
from generator.userapps.values import values_problems

# names clusterforge gives apps under some settings, and its entry points: never an app's of the user's
RESERVED_NAMES = frozenset(
    {
        generated.LITELLM,
        generated.MIGRATE_APP,
        generated.DATABASE_APP,
        generated.CACHE_APP,
        generated.CNPG_OPERATOR,
        generated.BARMAN_PLUGIN,
        generated.DRAGONFLY_OPERATOR,
        generated.SEALED_SECRETS,
        generated.EXTERNAL_SECRETS,
        generated.SECRET_STORE_APP,
        generated.ROUTE_APP,
        "cluster-apps",  # the root Kustomization / Application
        "flux-system",  # what `flux bootstrap` makes
    }
)

ARGOCD_SECRET_VALUES = (
    "ArgoCD renders charts in its repo-server, which cannot read the cluster's Secrets (argo-cd#5664), so chart "
    "values cannot come from the secrets file: use `secrets` for a Secret the chart reads by name "
    "(existingSecret, envFrom, secretKeyRef)"
)


def check_apps(loaded: LoadedSettings, output: Path, shown_output: str) -> tuple[HandWritten, list[Problem]]:
    """The user's folders and Applications in the tree, and the warnings on the apps' values; every problem
    with the apps raised at once as a SettingsError."""
    settings = loaded.settings
    gitops = settings.gitops
    handwritten = discover(output, TreePlace(gitops.engine, shown_output, gitops.repository, gitops.path))
    if not settings.apps and not handwritten.namespaces:
        return handwritten, []  # nothing to check against what clusterforge generates
    stack = build_stack(settings.model_copy(update={"apps": []}), loaded.config_path.name)
    rules = app_rules(settings, stack, handwritten, shown_output)
    problems = [loaded.problem(p.path, p.message, at_key=p.at_key) for p in rules if not p.warning]
    problems += _taken_namespaces(stack, handwritten, shown_output)
    errors, warnings = values_problems(loaded)
    if problems or errors:
        raise SettingsError([*problems, *errors])
    warnings += [loaded.problem(p.path, f"warning: {p.message}", at_key=p.at_key) for p in rules if p.warning]
    return handwritten, warnings


def _taken_namespaces(stack: Stack, handwritten: HandWritten, shown: str) -> list[Problem]:
    """A namespace folder of the user's where clusterforge renders apps: two kustomizations for one folder."""
    problems = []
    for namespace in sorted(set(handwritten.namespaces) & set(stack.namespaces)):
        apps = ", ".join(app.name for app in stack.in_namespace(namespace))
        problems.append(
            Problem(
                f"{shown}/{APPS}/{namespace}/",
                None,
                None,
                "",
                f"a namespace folder of your own (its own kustomization), but clusterforge renders {apps} into "
                f"namespace {namespace}: put your apps in app folders there (each with a ks.yaml) and remove "
                "your kustomization, or use another namespace",
            )
        )
    return problems


def app_rules(settings: Settings, stack: Stack, handwritten: HandWritten, shown: str) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    generated_names = {app.name for app in stack.apps}
    hooks = {app.name: _host(stack, app.name) for app in stack.apps if holds_hook(app)}
    declared = [app.name for app in settings.apps]
    first: dict[str, int] = {}
    for index, app in enumerate(settings.apps):
        at: KeyPath = ("apps", index)
        if app.name in first:
            problems.append(RuleProblem((*at, "name"), f"another app is named '{app.name}' (apps[{first[app.name]}])"))
        first.setdefault(app.name, index)
        problems += _name(settings, app, at, generated_names, handwritten, shown)
        if app.namespace in _default_deny(settings):
            problems.append(
                RuleProblem(
                    (*at, "namespace"),
                    f"namespace {app.namespace} has clusterforge's default-deny network policies: the app's pods "
                    "get no traffic in or out until you add policies for them",
                    warning=True,
                )
            )
        if app.namespace in handwritten.namespaces:
            problems.append(
                RuleProblem(
                    (*at, "namespace"),
                    f"{shown}/{APPS}/{app.namespace}/ is a namespace folder of your own (its own kustomization), "
                    "which clusterforge never writes into: choose another namespace",
                )
            )
        for position, dependency in enumerate(app.depends_on):
            message = _dependency(app, dependency, hooks, generated_names, declared)
            if message:
                problems.append(RuleProblem((*at, "depends_on", position), message))
        if app.secret_values and settings.gitops.engine == "argocd":
            problems.append(RuleProblem((*at, "secret_values"), ARGOCD_SECRET_VALUES, at_key=True))
        problems += _overlaps(app, at)
    problems += _cycles(settings.apps)
    problems += _secret_names(settings.apps, stack)
    return problems


def _default_deny(settings: Settings) -> set[str]:
    """The namespaces that get clusterforge's default-deny policy (see generator.apps, network policies)."""
    if not settings.network_policies.enabled:
        return set()
    denied = {settings.litellm.namespace}
    if settings.cache.type in ("dragonfly", "valkey"):
        denied.add(cache_namespace(settings))
    return denied


def _host(stack: Stack, hook: str) -> str:
    return next((app.name for app in stack.apps if hook in app.depends_on), hook)


def _name(
    settings: Settings, app: ChartApp, at: KeyPath, taken: set[str], handwritten: HandWritten, shown: str
) -> Iterator[RuleProblem]:
    where = (*at, "name")
    if app.name in taken or app.name in RESERVED_NAMES:
        yield RuleProblem(where, f"'{app.name}' is the name of an app clusterforge generates; choose another")
    if settings.gitops.engine == "flux":
        if (app.namespace, app.name) in handwritten.apps:
            yield RuleProblem(where, f"{shown}/{APPS}/{app.namespace}/{app.name}/ is an app folder of your own")
        for folder, name in handwritten.kustomizations:
            if name == app.name and folder != f"{APPS}/{app.namespace}/{app.name}":
                yield RuleProblem(where, f"'{name}' names the Flux Kustomization in {shown}/{folder}/ks.yaml")
    for application in handwritten.applications:
        if application.name == app.name:
            yield RuleProblem(where, f"'{app.name}' names your Application in {shown}/{application.file}")


def _dependency(
    app: ChartApp, dependency: str, hooks: Mapping[str, str], generated_names: set[str], declared: list[str]
) -> str | None:
    if dependency == app.name:
        return "an app cannot depend on itself"
    if dependency in hooks:
        host = hooks[dependency]
        return f"{dependency} runs inside {host}'s rollout (before {host}'s pods change): depend on {host}"
    known = sorted((generated_names - set(hooks)) | set(declared) - {app.name})
    if dependency in known:
        return None
    close = difflib.get_close_matches(dependency, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"no app is named '{dependency}'{hint}; with these settings there are: {', '.join(known)}"


def _overlaps(app: ChartApp, at: KeyPath) -> Iterator[RuleProblem]:
    """A value from the secrets file whose place ``values`` also fills: Flux gives ``values`` precedence."""
    values: Any = app.values_map
    for path, _ in secret_leaves(app.secret_values):
        node = values
        for depth, key in enumerate(path):
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
            last = depth == len(path) - 1
            if last or not isinstance(node, dict):
                set_at = dotted(path[: depth + 1])
                yield RuleProblem(
                    (*at, "secret_values", *path),
                    f"values.{set_at} is set too, and Flux lets `values` win over values from Secrets: "
                    "keep one of them",
                )
                break


def _cycles(apps: list[ChartApp]) -> Iterator[RuleProblem]:
    index = {app.name: position for position, app in enumerate(apps)}
    reported: set[frozenset[str]] = set()

    def walk(name: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        if name in path:
            return (*path[path.index(name) :], name)
        for dependency in apps[index[name]].depends_on:
            if dependency in index and dependency != name:
                found = walk(dependency, (*path, name))
                if found:
                    return found
        return None

    for app in apps:
        circle = walk(app.name, ())
        if circle is None or frozenset(circle) in reported or circle[0] != app.name:
            continue
        reported.add(frozenset(circle))
        position = app.depends_on.index(circle[1])
        yield RuleProblem(
            ("apps", index[app.name], "depends_on", position),
            f"the apps depend on each other in a circle: {' -> '.join(circle)}",
        )


def _secret_names(apps: list[ChartApp], stack: Stack) -> Iterator[RuleProblem]:
    """Two Secrets of one name in a namespace: the second would replace the first."""
    owners: dict[tuple[str, str], str] = {
        (spec.namespace, spec.name): app.name for app in stack.apps for spec in app.secrets
    }
    for position, app in enumerate(apps):
        names: list[tuple[str, KeyPath]] = [(name, ("secrets", name)) for name in app.secrets]
        if app.secret_values:
            names.append((values_secret_name(app), ("secret_values",)))
        for name, where in names:
            owner = owners.setdefault((app.namespace, name), app.name)
            if owner != app.name:
                yield RuleProblem(
                    ("apps", position, *where),
                    f"a Secret named {name} is in namespace {app.namespace} already (from app {owner})",
                    at_key=True,
                )
