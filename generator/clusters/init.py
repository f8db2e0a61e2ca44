"""`clusterforge init --cluster NAME`: add a cluster to a repository of several, touching no other cluster.

It creates what the repository lacks (clusters/common.yaml, models.yaml, the editor schemas, .gitignore),
the cluster's folder with its cluster.yaml, its own age key and its secrets file, and puts the cluster's
creation rules at the top of the repository's .sops.yaml (before any catch-all rule), so that its files are
encrypted to its key only.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from generator.atomicfile import write_file
from generator.clusters.layout import CLUSTERS, NAME, NAME_RULE, common_file, settings_file
from generator.errors import UsageError
from generator.init import InitResult, create_text, ensure_gitignore, example_text, init_secrets, write_generated
from generator.repolock import repository_lock
from generator.schema import layer_schema_text, schema_text
from generator.secrets.agekey import AgeKey, create_age_key, read_age_key
from generator.secrets.sops import creation_rules
from generator.settings.load import LoadedSettings, load_settings, shown_path

COMMON_TEXT = """\
# yaml-language-server: $schema=./cluster.schema.json
# Settings every cluster shares. Each clusters/<name>/cluster.yaml is written over this file: mappings
# merge key by key, anything else (a list, a value) is replaced. Paths here are relative to this folder.
# README: Several clusters.

gitops:
  engine: flux
  # the repository Flux syncs; each cluster's tree is clusters/<name>/output unless it sets gitops.path
  repository: https://github.com/example/home-ops.git
  branch: main

secrets:
  provider: sops

litellm:
  namespace: ai-system
  replicas: 2

# The models every cluster serves; a cluster changes them with model_changes in its cluster.yaml.
models: ../models.yaml

# PostgreSQL for keys, teams and spend: a CloudNativePG cluster next to LiteLLM.
database:
  type: cloudnative-pg
  instances: 1
  storage:
    size: 20Gi

# Redis-compatible cache for responses and rate limits.
cache:
  type: dragonfly
"""

CLUSTER_TEXT = """\
# yaml-language-server: $schema=../cluster.schema.json
# Cluster {name}: its own settings, written over ../common.yaml. Its secrets are in
# cluster.secrets.sops.yaml beside this file, encrypted to its own age key (age.key, never in git).

cluster:
  domain: {name}.example.com

# This cluster's changes to the shared models:
# model_changes:
#   remove: [gpt-4o]
#   override:
#     claude-sonnet: {{rpm: 100}}
#   add:
#     - {{name: llama, provider: ollama, model: llama3.1, api_base: "http://ollama.ai-system:11434"}}
"""

SOPS_HEADER = "# sops creation rules: one pair per cluster, written by clusterforge init --cluster\n"


def init_cluster(root: Path, name: str) -> InitResult:
    """Add cluster ``name`` to the repository at ``root`` (made one of several clusters if it is not yet)."""
    if not NAME.match(name):
        raise UsageError(f"'{name}' is not a cluster name: {NAME_RULE}")
    root = root.absolute()
    if (root / "cluster.yaml").exists() and not common_file(root).exists():
        raise UsageError(
            "cluster.yaml here is a single cluster: move it to clusters/<name>/ first "
            "(README: Several clusters, growing from one)"
        )
    (root / CLUSTERS).mkdir(parents=True, exist_ok=True)
    with repository_lock(root, f"init --cluster {name}"):
        return _init_cluster(root, name)


def _init_cluster(root: Path, name: str) -> InitResult:
    result = InitResult()
    create_text(common_file(root), COMMON_TEXT, result)
    create_text(root / "models.yaml", example_text("models.example.yaml"), result)
    write_generated(root / CLUSTERS / "cluster.schema.json", layer_schema_text(), result)
    write_generated(root / "models.schema.json", schema_text(models_file=True), result)
    config = settings_file(root, name)
    config.parent.mkdir(exist_ok=True)
    create_text(config, CLUSTER_TEXT.format(name=name), result)
    ensure_gitignore(root, result)
    loaded = load_settings(config)
    if loaded.settings.secrets.provider == "external-secrets":
        return result  # the values live in the external store: no key, no secrets file
    key = _age_key(loaded, result)
    _sops_rules(loaded, key, result)
    init_secrets(loaded, key, result)
    return result


def _age_key(loaded: LoadedSettings, result: InitResult) -> AgeKey:
    path = loaded.resolve(loaded.settings.secrets.sops.age_key_file)
    if path.exists():
        result.kept.append(shown_path(path))
        key = read_age_key(path, shown_path(path))
    else:
        key = create_age_key(path)
        result.created.append(shown_path(path))
    result.age_key = shown_path(path)
    return key


def cluster_rules(loaded: LoadedSettings, recipient: str) -> list[dict[str, Any]]:
    """The creation rules of one cluster: its secrets file (every value), then its rendered Secrets (only
    data and stringData), both to its own recipient. Paths relative to the .sops.yaml's folder."""
    config_dir = loaded.resolve(loaded.settings.secrets.sops.config).parent
    secrets = os.path.relpath(loaded.resolve(loaded.settings.secrets.sops.file), config_dir)
    output = os.path.relpath(loaded.output(), config_dir)
    return [
        {"path_regex": f"^{re.escape(secrets)}$", "age": recipient},
        {
            "path_regex": f"^{re.escape(output)}/.*\\.sops\\.ya?ml$",
            "encrypted_regex": "^(data|stringData)$",
            "mac_only_encrypted": True,
            "age": recipient,
        },
    ]


def rules_text(name: str, rules: list[dict[str, Any]], indent: str) -> str:
    """The rules as block YAML items at ``indent``, each after a comment naming the cluster."""
    comments = (f"cluster {name}: its secrets file, every value encrypted", f"cluster {name}: its rendered Secrets")
    lines = []
    for comment, rule in zip(comments, rules, strict=True):
        lines.append(f"{indent}# {comment}")
        for number, (key, value) in enumerate(rule.items()):
            shown = json.dumps(value) if isinstance(value, bool) else str(value)
            lines.append(f"{indent}{'- ' if number == 0 else '  '}{key}: {shown}")
    return "\n".join(lines) + "\n"


_RULES_KEY = re.compile(r"^creation_rules:[ \t]*(#.*)?$", re.MULTILINE)
_FIRST_ITEM = re.compile(r"^([ \t]*)- ", re.MULTILINE)


def _sops_rules(loaded: LoadedSettings, key: AgeKey, result: InitResult) -> None:
    """Put the cluster's rules first in the .sops.yaml (before any catch-all rule a single cluster's
    .sops.yaml has), unless rules for its files are there already. The rest of the file stays as written."""
    path = loaded.resolve(loaded.settings.secrets.sops.config)
    shown = shown_path(path)
    rules = cluster_rules(loaded, key.recipient)
    name = loaded.settings.cluster.name
    if not path.exists():
        text = f"{SOPS_HEADER}creation_rules:\n{rules_text(name, rules, '  ')}stores:\n  yaml:\n    indent: 2\n"
        create_text(path, text, result)
        return
    have = creation_rules(path)  # the file is the user's: what is wrong in it is located
    if all(rule["path_regex"] in have for rule in rules):
        result.kept.append(shown)
        return
    old = path.read_text(encoding="utf-8")
    found = _RULES_KEY.search(old)
    if found is None:
        raise UsageError(f"{shown}: no block `creation_rules:` list to add cluster {name}'s rules to; add them by hand")
    after = old[found.end() + 1 :]
    item = _FIRST_ITEM.search(after)
    indent = item.group(1) if item else "  "
    new = old[: found.end() + 1] + rules_text(name, rules, indent) + after
    write_file(path, new.encode())
    result.updated.append(shown)
