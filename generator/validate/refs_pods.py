"""References from pods to Secrets and ConfigMaps: env, envFrom, volumes; also in app-template values.

A Secret can be written as one, or made by a SealedSecret, an ExternalSecret, a cert-manager
Certificate or a CloudNativePG Cluster; its keys are checked when they can be seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator.errors import KeyPath
from generator.validate.model import Finding, resource_id
from generator.validate.resources import POD_GROUPS, POD_SPECS, Inventory, Resource

# Secrets an operator makes for a CloudNativePG Cluster named X: X-app, X-superuser, ...
_CNPG_SECRETS = ("app", "superuser", "ca", "server", "replication")
_CERT_KEYS = frozenset({"tls.crt", "tls.key", "ca.crt"})


@dataclass(slots=True)
class Provided:
    maker: Resource
    keys: frozenset[str] | None  # None: the keys cannot be seen (dataFrom, operators)


@dataclass(slots=True)
class Ref:
    """A pod's reference to a Secret or ConfigMap, and the keys it reads from it."""

    path: KeyPath
    kind: str  # Secret or ConfigMap
    name: str
    optional: bool
    keys: tuple[tuple[KeyPath, str], ...] = ()


def templated(name: str) -> bool:
    """A name Flux substitutes or Helm renders: not known before deploy."""
    return "${" in name or "{{" in name


def _keys(*maps: object) -> frozenset[str]:
    return frozenset(str(k) for m in maps if isinstance(m, dict) for k in m)


class Providers:
    """Who makes each Secret and ConfigMap, by (namespace, name)."""

    def __init__(self, inventory: Inventory) -> None:
        self.made: dict[tuple[str, str, str], Provided] = {}
        for r in inventory.of_kind("", "Secret"):
            self._add("Secret", r.namespace, r.name, r, _keys(r.get("data"), r.get("stringData")))
        for r in inventory.of_kind("", "ConfigMap"):
            self._add("ConfigMap", r.namespace, r.name, r, _keys(r.get("data"), r.get("binaryData")))
        for r in inventory.of_kind("bitnami.com", "SealedSecret"):
            meta = r.get("spec", "template", "metadata") or {}
            name = meta.get("name") if isinstance(meta, dict) else None
            namespace = meta.get("namespace") if isinstance(meta, dict) else None
            keys = _keys(r.get("spec", "encryptedData"), r.get("spec", "template", "data"))
            self._add("Secret", str(namespace or r.namespace), str(name or r.name), r, keys)
        for r in inventory.of_kind("external-secrets.io", "ExternalSecret"):
            self._add("Secret", r.namespace, str(r.get("spec", "target", "name") or r.name), r, _external_keys(r))
        for r in inventory.of_kind("cert-manager.io", "Certificate"):
            name = r.get("spec", "secretName")
            if isinstance(name, str):
                self._add("Secret", r.namespace, name, r, _CERT_KEYS)
        for r in inventory.of_kind("postgresql.cnpg.io", "Cluster"):
            for suffix in _CNPG_SECRETS:
                self._add("Secret", r.namespace, f"{r.name}-{suffix}", r, None)

    def _add(self, kind: str, namespace: str, name: str, maker: Resource, keys: frozenset[str] | None) -> None:
        key = (kind, namespace, name)
        known = self.made.get(key)
        if known is None:
            self.made[key] = Provided(maker, keys)
        elif known.keys is not None:  # two makers: their keys together; keys that cannot be seen win
            self.made[key] = Provided(known.maker, None if keys is None else known.keys | keys)

    def check(self, owner: Resource, namespace: str, ref: Ref) -> Iterator[Finding]:
        if not ref.name or templated(ref.name):
            return
        wanted = resource_id(ref.kind, namespace, ref.name)
        provided = self.made.get((ref.kind, namespace, ref.name))
        if provided is None:
            if not ref.optional:
                makers = " (no Secret, SealedSecret or ExternalSecret makes it)" if ref.kind == "Secret" else ""
                yield owner.finding(ref.path, f"{wanted} does not exist{makers}")
            return
        if provided.keys is None:
            return
        for path, key in ref.keys:
            if key not in provided.keys and not templated(key):
                have = ", ".join(sorted(provided.keys)) or "none"
                yield owner.finding(path, f"{wanted} has no key '{key}' (it has: {have})")

    def check_ref(
        self, owner: Resource, path: KeyPath, namespace: str, kind: object, ref: dict[str, Any], key: str | None
    ) -> Iterator[Finding]:
        """A Flux-style reference {kind, name, optional} with an optional key."""
        if kind not in ("Secret", "ConfigMap"):
            return
        keys = ((path, key),) if key else ()
        yield from self.check(
            owner, namespace, Ref(path, str(kind), str(ref.get("name", "")), bool(ref.get("optional")), keys)
        )


def _external_keys(secret: Resource) -> frozenset[str] | None:
    spec = secret.get("spec")
    if not isinstance(spec, dict):
        return frozenset()
    template = secret.get("spec", "target", "template")
    if spec.get("dataFrom") or (isinstance(template, dict) and template.get("templateFrom")):
        return None
    data = spec.get("data")
    fetched = (
        frozenset(str(d["secretKey"]) for d in data if isinstance(d, dict) and "secretKey" in d)
        if isinstance(data, list)
        else frozenset()
    )
    if isinstance(template, dict) and isinstance(template.get("data"), dict):
        templated_keys = frozenset(str(k) for k in template["data"])
        return templated_keys | fetched if template.get("mergePolicy") == "Merge" else templated_keys
    return fetched


def _key_selector(path: KeyPath, kind: str, selector: object) -> Ref | None:
    if not isinstance(selector, dict):
        return None
    key = selector.get("key")
    keys = ((path, str(key)),) if key is not None else ()
    return Ref(path, kind, str(selector.get("name", "")), bool(selector.get("optional")), keys)


def _volume_ref(path: KeyPath, kind: str, volume: object, name_key: str) -> Ref | None:
    if not isinstance(volume, dict):
        return None
    items = volume.get("items")
    keys = tuple(
        ((*path, "items", i, "key"), str(item["key"]))
        for i, item in enumerate(items if isinstance(items, list) else [])
        if isinstance(item, dict) and "key" in item
    )
    return Ref(path, kind, str(volume.get(name_key, "")), bool(volume.get("optional")), keys)


def pod_refs(spec: object, base: KeyPath) -> Iterator[Ref]:
    """Every Secret and ConfigMap reference of a pod spec."""
    if not isinstance(spec, dict):
        return
    for group in ("containers", "initContainers", "ephemeralContainers"):
        containers = spec.get(group)
        for i, container in enumerate(containers if isinstance(containers, list) else []):
            if not isinstance(container, dict):
                continue
            here = (*base, group, i)
            env = container.get("env")
            for j, item in enumerate(env if isinstance(env, list) else []):
                source = item.get("valueFrom") if isinstance(item, dict) else None
                if isinstance(source, dict):
                    for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                        found = _key_selector((*here, "env", j, "valueFrom", field), kind, source.get(field))
                        if found:
                            yield found
            env_from = container.get("envFrom")
            for j, item in enumerate(env_from if isinstance(env_from, list) else []):
                if isinstance(item, dict):
                    for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                        found = _key_selector((*here, "envFrom", j, field), kind, item.get(field))
                        if found:
                            yield found
    volumes = spec.get("volumes")
    for k, volume in enumerate(volumes if isinstance(volumes, list) else []):
        if not isinstance(volume, dict):
            continue
        here = (*base, "volumes", k)
        for field, kind, name_key in (("secret", "Secret", "secretName"), ("configMap", "ConfigMap", "name")):
            found = _volume_ref((*here, field), kind, volume.get(field), name_key)
            if found:
                yield found
        sources = volume.get("projected", {}).get("sources") if isinstance(volume.get("projected"), dict) else None
        for m, projection in enumerate(sources if isinstance(sources, list) else []):
            if isinstance(projection, dict):
                for field, kind in (("secret", "Secret"), ("configMap", "ConfigMap")):
                    found = _volume_ref((*here, "projected", "sources", m, field), kind, projection.get(field), "name")
                    if found:
                        yield found


def app_template_refs(values: object, base: KeyPath) -> Iterator[Ref]:
    """Secret and ConfigMap references in app-template (bjw-s) values; chart-made ones (identifiers) skipped."""
    if not isinstance(values, dict):
        return
    own = {"Secret": _keys(values.get("secrets")), "ConfigMap": _keys(values.get("configMaps"))}
    controllers = values.get("controllers")
    for cname, controller in controllers.items() if isinstance(controllers, dict) else []:
        if not isinstance(controller, dict):
            continue
        defaults = controller.get("defaultContainerOptions")
        if isinstance(defaults, dict):
            yield from _app_container(defaults, (*base, "controllers", cname, "defaultContainerOptions"), own)
        for group in ("containers", "initContainers"):
            containers = controller.get(group)
            for name, container in containers.items() if isinstance(containers, dict) else []:
                if isinstance(container, dict):
                    yield from _app_container(container, (*base, "controllers", cname, group, name), own)
    persistence = values.get("persistence")
    for pname, item in persistence.items() if isinstance(persistence, dict) else []:
        if isinstance(item, dict) and item.get("type") in ("secret", "configMap") and "name" in item:
            kind = "Secret" if item["type"] == "secret" else "ConfigMap"
            found = _volume_ref((*base, "persistence", pname), kind, item, "name")
            if found and found.name not in own[kind]:
                yield found


def _app_container(container: dict[str, Any], here: KeyPath, own: dict[str, frozenset[str]]) -> Iterator[Ref]:
    env = container.get("env")
    entries: list[tuple[KeyPath, Any]] = []
    if isinstance(env, list):
        entries = [((*here, "env", j), item) for j, item in enumerate(env)]
    elif isinstance(env, dict):
        entries = [((*here, "env", key), item) for key, item in env.items()]
    for path, item in entries:
        if not isinstance(item, dict):
            continue
        holder, holder_path = item, path
        if isinstance(item.get("valueFrom"), dict):
            holder, holder_path = item["valueFrom"], (*path, "valueFrom")
        for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            found = _key_selector((*holder_path, field), kind, holder.get(field))
            if found:
                yield found
    env_from = container.get("envFrom")
    for j, item in enumerate(env_from if isinstance(env_from, list) else []):
        if not isinstance(item, dict):
            continue
        for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
            ref = item.get(field)
            if isinstance(ref, dict) and "name" in ref:
                found = _key_selector((*here, "envFrom", j, field), kind, ref)
                if found:
                    yield found
        for field, kind in (("secret", "Secret"), ("configMap", "ConfigMap")):
            name = item.get(field)
            if isinstance(name, str) and name not in own[kind]:
                yield Ref((*here, "envFrom", j, field), kind, name, False)


def check_workloads(inventory: Inventory, providers: Providers) -> Iterator[Finding]:
    for group, kind in list(inventory.by_kind):
        if group not in POD_GROUPS or kind not in POD_SPECS:
            continue
        path = POD_SPECS[kind]
        for workload in inventory.to_check(group, kind):
            for ref in pod_refs(workload.get(*path), path):
                yield from providers.check(workload, workload.namespace, ref)
