"""``<tree>`` for the trees' own places in their repositories.

A rendered tree names its own folder: Flux Kustomizations say ``path: ./clusters/staging/output/...``,
ArgoCD Applications ``path: clusters/staging/output/...``. Two clusters' trees live in different
folders, so without this every such line would differ.
"""

from __future__ import annotations

import re

from generator.treediff.targets import Tree

PLACEHOLDER = "<tree>"


def placeholders(left: Tree, right: Tree, exact: bool) -> tuple[str, str] | None:
    """The two prefixes to replace; None when --exact, when a tree is outside a repository or its
    root (its paths carry no prefix to find), or when the prefixes are the same (nothing to do)."""
    if exact or left.prefix is None or right.prefix is None:
        return None
    if "." in (left.prefix, right.prefix) or left.prefix == right.prefix:
        return None
    return left.prefix, right.prefix


def substitute(text: str, prefix: str) -> str:
    """``prefix`` as the first part of a path (``prefix/...``, ``./prefix/...`` or all of a value)
    becomes ``<tree>``; the same letters inside another path or word stay."""
    pattern = re.compile(r"(?<![\w./-])(\./)?" + re.escape(prefix) + r"(?=[/\s\"',\]}`]|$)", re.MULTILINE)
    return pattern.sub(lambda match: (match.group(1) or "") + PLACEHOLDER, text)
