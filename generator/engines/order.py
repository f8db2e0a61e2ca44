"""The order ArgoCD syncs the Applications in: sync waves from the stack's dependencies.

Flux orders apps with ``dependsOn``; ArgoCD's app of apps syncs its Applications wave by wave,
so an app's wave is one more than the latest wave it depends on.

An app holding a pre-sync hook (LiteLLM's migration Job) gets no Application of its own: it
runs in the PreSync phase of the one app that depends on it, so on every sync of that app it
finishes before that app's pods change (a hook runs before its own Application's sync, never
before another's). What the hook app depends on, its host then depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.errors import ClusterforgeError
from generator.stack import App, Stack


def holds_hook(app: App) -> bool:
    return any(manifest.hook == "pre-sync" for manifest in app.manifests)


@dataclass(frozen=True)
class Order:
    waves: dict[str, int]  # Application (app) name -> sync wave
    needs: dict[str, tuple[str, ...]]  # Application name -> the Applications it waits for
    hosts: dict[str, str]  # hook app name -> the app whose PreSync phase runs it

    def hooked(self, host: str) -> list[str]:
        """The hook apps that run in ``host``'s PreSync phase."""
        return sorted(hook for hook, at in self.hosts.items() if at == host)


def hook_hosts(stack: Stack) -> dict[str, str]:
    names = {app.name for app in stack.apps}
    hosts: dict[str, str] = {}
    for app in stack.apps:
        if not holds_hook(app):
            continue
        dependents = sorted(other.name for other in stack.apps if app.name in other.depends_on)
        if len(dependents) != 1 or holds_hook(stack.app(dependents[0])):
            raise ClusterforgeError(
                f"app {app.name} holds a pre-sync hook, so exactly one app without hooks must depend on it; "
                f"found: {', '.join(dependents) or 'none'}"
            )
        hosts[app.name] = dependents[0]
    for app in stack.apps:
        unknown = sorted(set(app.depends_on) - names)
        if unknown:
            raise ClusterforgeError(f"app {app.name} depends on {', '.join(unknown)}, which the stack does not hold")
    return hosts


def sync_order(stack: Stack) -> Order:
    hosts = hook_hosts(stack)
    needs: dict[str, tuple[str, ...]] = {}
    for app in stack.apps:
        if app.name in hosts:
            continue
        wanted = [dep for dep in app.depends_on if hosts.get(dep) != app.name]
        for hook, host in hosts.items():
            if host == app.name:
                wanted += stack.app(hook).depends_on
        needs[app.name] = tuple(sorted(set(wanted)))
    waves: dict[str, int] = {}

    def wave(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            raise ClusterforgeError(f"the apps depend on each other in a circle: {' -> '.join((*path, name))}")
        if name not in waves:
            waves[name] = 1 + max((wave(dep, (*path, name)) for dep in needs[name]), default=-1)
        return waves[name]

    for name in needs:
        wave(name, ())
    return Order(waves, needs, hosts)
