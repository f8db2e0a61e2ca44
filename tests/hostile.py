"""Hostile repositories for `clusterforge validate`: each one must end with its own clear error, fast,
without fetching anything or reading outside the tree. Shared by the tests and benchmarks/hostile_validate.py.

Each builder writes a small repository under the folder it is given and returns the folder to run
`clusterforge validate . --repo-root .` in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
CONFIGMAP = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata:\n  LOG_LEVEL: info\n"
)


@dataclass(frozen=True)
class Hostile:
    name: str
    build: Callable[[Path], Path]
    expect: str  # a regular expression the one error must match


def app(repo: Path, kustomization: str, files: dict[str, str] | None = None) -> Path:
    """``repo/app``: a kustomization (its body after apiVersion and kind) and the files it names."""
    folder = repo / "app"
    folder.mkdir(parents=True)
    (folder / "kustomization.yaml").write_text(KUSTOMIZATION + kustomization)
    (folder / "configmap.yaml").write_text(CONFIGMAP)
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    return repo


def billion_laughs() -> str:
    """A ConfigMap whose aliases expand to 9^9 strings: under 1 KB written."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: lol", "lol:"]
    lines.append('  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]')
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    lines.append("data:\n  value: lol")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    """A ConfigMap with a mapping nested ``depth`` levels deep (flow style, one line)."""
    return CONFIGMAP + "nested: " + "{a: " * depth + "1" + "}" * depth + "\n"


def url_resource(base: Path) -> Path:
    return app(base, "resources:\n  - configmap.yaml\n  - https://example.com/fleet/deploy.yaml\n")


def git_resource(base: Path) -> Path:
    return app(base, "resources:\n  - configmap.yaml\n  - github.com/example/platform//base/web?ref=v1.2.0\n")


def outside_folder(base: Path) -> Path:
    """``repo/apps/web`` names ``../../../outside``: a valid kustomization beside the repository."""
    outside = base / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text(KUSTOMIZATION + "resources:\n  - configmap.yaml\n")
    (outside / "configmap.yaml").write_text(CONFIGMAP)
    web = base / "repo" / "apps" / "web"
    web.mkdir(parents=True)
    (web / "kustomization.yaml").write_text(KUSTOMIZATION + "resources:\n  - configmap.yaml\n  - ../../../outside\n")
    (web / "configmap.yaml").write_text(CONFIGMAP.replace("settings", "web"))
    return base / "repo"


def symlink_passwd(base: Path) -> Path:
    repo = base / "repo"
    repo.mkdir()
    (repo / "configmap.yaml").write_text(CONFIGMAP)
    os.symlink("/etc/passwd", repo / "passwd.yaml")
    return repo


def laughs_in_resource(base: Path) -> Path:
    return app(base, "resources:\n  - configmap.yaml\n  - laughs.yaml\n", {"laughs.yaml": billion_laughs()})


def deep_in_resource(base: Path) -> Path:
    return app(base, "resources:\n  - configmap.yaml\n  - deep.yaml\n", {"deep.yaml": nested(10_000)})


def big_configmap(base: Path) -> Path:
    """A 50 MB ConfigMap, a resource of a kustomization (written in pieces: the writer stays small)."""
    repo = app(base, "resources:\n  - configmap.yaml\n  - big.yaml\n")
    with (repo / "app" / "big.yaml").open("w") as out:
        out.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  namespace: apps\ndata:\n  blob: ")
        for _ in range(50):
            out.write("x" * 1_000_000)
        out.write("\n")
    return repo


def helm_chart_repo(base: Path) -> Path:
    chart = "helmCharts:\n  - name: podinfo\n    repo: https://stefanprodan.github.io/podinfo\n    version: 6.7.1\n"
    return app(base, "resources:\n  - configmap.yaml\n" + chart)


def helm_without_enable_helm(base: Path) -> Path:
    """A chart from the kustomization's own ``charts`` folder: kustomize wants --enable-helm (which runs helm)."""
    repo = app(base, "resources:\n  - configmap.yaml\nhelmCharts:\n  - name: podinfo\n    version: 6.7.1\n")
    (repo / "app" / "charts" / "podinfo").mkdir(parents=True)
    (repo / "app" / "charts" / "podinfo" / "Chart.yaml").write_text("apiVersion: v2\nname: podinfo\nversion: 6.7.1\n")
    return repo


HOSTILE = [
    Hostile("url-resource", url_resource, r"resources\[1\]: remote resource not fetched \(validate works offline\)"),
    Hostile("git-resource", git_resource, r"resources\[1\]: remote resource not fetched \(validate works offline\)"),
    Hostile("outside-folder", outside_folder, r"\.\./\.\./\.\./outside is outside the paths given and the repository"),
    Hostile("symlink-to-etc-passwd", symlink_passwd, r"passwd\.yaml: a symlink to /etc/passwd, outside"),
    Hostile("billion-laughs-in-resource", laughs_in_resource, r"laughs\.yaml:\d+: .*alias"),
    Hostile("10000-levels-in-resource", deep_in_resource, r"deep\.yaml:\d+: .*(deep|recursion)"),
    Hostile("50mb-configmap", big_configmap, r"ConfigMap/apps/big: data and binaryData hold 47\.7 MiB"),
    Hostile("helm-chart-repo", helm_chart_repo, r"helmCharts\[0\]\.repo: remote resource not fetched"),
    Hostile(
        "helm-without-enable-helm", helm_without_enable_helm, r"kustomize build failed: .*must specify --enable-helm"
    ),
]


def one_error(output: str, expect: str) -> str | None:
    """The finding line matching ``expect`` when it is the only finding, else None."""
    lines = [line for line in output.splitlines()[:-1] if line.strip()]
    if len(lines) == 1 and re.search(expect, lines[0]):
        return lines[0]
    return None
