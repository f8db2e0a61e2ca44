"""Build kustomize directories with ``kubectl kustomize``: what Flux and ArgoCD will build.

Each directory is built through a throwaway kustomization that includes it with
``buildMetadata: [originAnnotations]``, so every built object says which file it came from and
findings in the built output point at the source line. A failed build is run again directly, for
kustomize's own error message without the wrapper around it.

kubectl runs offline and bounded: a cluster configuration naming a context that does not exist (so
no client is made and nothing is dialled, not even the default ``localhost:8080`` an empty one
means, which gcloud's kubectl dispatcher asks for its server version), an empty PATH (no ``git``
for a remote base), HTTP proxies that fail before any name is looked up, at most ``MEMORY`` bytes of
data memory and ``TIMEOUT`` seconds per run. What it reads was checked first (see containment).
"""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.command import Command, optional_program
from generator.errors import ToolError
from generator.scratch import folder as scratch_folder
from generator.validate.documents import YamlError, loads
from generator.validate.kustomization import is_remote
from generator.validate.sizes import may_be_too_big

ORIGIN = "config.kubernetes.io/origin"
TIMEOUT = 30  # seconds per kubectl run: a large repository builds in a few
MEMORY = 1024 * 1024 * 1024  # bytes of data memory per kubectl run
ANY_EXIT = frozenset(range(256))  # failures are read here, with kubectl's whole stderr

# A context that is not in the file: kubectl makes no client from it, so it never dials
_OFFLINE_KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: validate-is-offline\n"
# Not a valid host name, so Go's resolver refuses it without a DNS query and nothing is dialled
_NO_PROXY_HOST = "http://validate-is-offline!:1"


@dataclass
class Built:
    """One object a build produced and the file it came from: its kustomization when a generator made it."""

    data: dict[str, Any]
    origin: Path | None


@dataclass
class Build:
    directory: Path
    objects: list[Built] = field(default_factory=list)
    error: str | None = None  # kustomize's message when the build failed
    large: bool = False  # its output may hold an object past the API server's size limits


def offline_env(scratch: Path) -> dict[str, str]:
    """The whole environment kubectl runs with: nothing from ours (no KUBECONFIG, proxies or PATH)."""
    kubeconfig = scratch / "kubeconfig"
    if not kubeconfig.exists():
        kubeconfig.write_text(_OFFLINE_KUBECONFIG)
    empty = scratch / "bin"
    empty.mkdir(exist_ok=True)
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(scratch), "PATH": str(empty), "NO_PROXY": "", "no_proxy": ""}
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        env[name] = _NO_PROXY_HOST
    return env


def kubectl(scratch: Path, plugin_home: Path | None = None) -> Command | None:
    """``kubectl kustomize``; with a plugin home, plugins on and looked up there only (see validate.ksops)."""
    program = optional_program("kubectl")
    if not program:
        return None
    env = offline_env(scratch)
    argv: tuple[str, ...] = (program, "kustomize")
    if plugin_home is not None:
        env["KUSTOMIZE_PLUGIN_HOME"] = str(plugin_home)
        argv += ("--enable-alpha-plugins",)
    return Command(argv, timeout=TIMEOUT, ok_codes=ANY_EXIT, env=env, inherit_env=False, memory_limit=MEMORY)


def build_dirs(
    directories: list[Path], shown: dict[Path, str], plugin_builds: frozenset[Path] = frozenset()
) -> list[Build]:
    """``kubectl kustomize`` each directory, in parallel; a failed build carries kustomize's message.
    The ``plugin_builds`` are built with plugins on: their only plugins are KSOPS generators, which
    kubectl's kustomize leaves out (it runs no exec functions)."""
    scratch = scratch_folder("kustomize")
    empty = scratch / "plugins"
    empty.mkdir()
    plain, with_plugins = kubectl(scratch), kubectl(scratch, empty)  # empty plugin home: no installed plugin runs
    if plain is None or with_plugins is None:
        shutil.rmtree(scratch, ignore_errors=True)
        raise ToolError(["kubectl", "kustomize"], None, "", "could not be started: kubectl is not on PATH")
    try:

        def one(index: int, directory: Path) -> Build:
            command = with_plugins if directory in plugin_builds else plain
            wrapper = scratch / str(index)
            wrapper.mkdir()
            target = os.path.relpath(directory, wrapper)
            (wrapper / "kustomization.yaml").write_text(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                f"buildMetadata: [originAnnotations]\nresources:\n  - {target}\n"
            )
            shown_as = shown.get(directory, str(directory))
            try:
                result = command.run(str(wrapper))
            except ToolError as exc:  # timed out: running it again would only take as long
                return Build(directory, error=bound_message(exc))
            if result.returncode != 0:
                if out_of_memory(result.stderr):
                    return Build(directory, error=out_of_memory_message())
                return _direct(command, directory, shown_as)
            return _built(result.stdout, directory, wrapper)

        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(one, range(len(directories)), directories))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # our own scratch folder only


def _direct(command: Command, directory: Path, shown: str) -> Build:
    """The directory built on its own: kustomize's error without our wrapper, or objects without origins."""
    try:
        result = command.run(str(directory))
    except ToolError as exc:
        return Build(directory, error=bound_message(exc))
    if result.returncode == 0:
        return _built(result.stdout, directory, directory)
    if out_of_memory(result.stderr):
        return Build(directory, error=out_of_memory_message())
    return Build(directory, error=kustomize_message(result.stderr.decode("utf-8", "replace"), directory, shown))


def _built(stdout: bytes, directory: Path, wrapper: Path) -> Build:
    text = stdout.decode("utf-8", "replace")
    try:
        objects = _objects(text, wrapper)
    except YamlError as exc:  # from a file of the tree, which is reported at its own line
        return Build(directory, error=f"the objects it builds hold what validate cannot read: {exc.message}")
    return Build(directory, objects, large=may_be_too_big(text))


# how the Go runtime dies when a mapping is refused: ``throw("out of memory")`` and its kin, or a thread
# it cannot start (ENOMEM, errno 12)
_GO_OUT_OF_MEMORY = re.compile(rb"fatal error: (?:runtime: )?(?:out of memory|cannot allocate memory)|errno=12\b")


def out_of_memory_message() -> str:
    return f"kubectl kustomize needed more than the {MEMORY // (1024 * 1024)} MiB of memory validate allows it"


def out_of_memory(stderr: bytes) -> bool:
    """Whether kubectl (a Go program) stopped because its memory bound was reached."""
    return _GO_OUT_OF_MEMORY.search(stderr) is not None


def bound_message(exc: ToolError) -> str:
    """A kubectl run that could not finish: over its time bound, or not started."""
    if exc.returncode is None and "timed out" in str(exc):
        return f"kubectl kustomize did not finish within the {TIMEOUT} s validate allows it"
    return str(exc)


_KLOG_LINE = re.compile(r'"command failed" err=(?:"((?:[^"\\]|\\.)*)"|<\s*$)')
_GO_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_GO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
MAX_MESSAGE = 2000  # characters of kustomize's error a finding carries whole


def kustomize_message(stderr: str, directory: Path, shown: str) -> str:
    """kustomize's whole error from kubectl's stderr, on one line: klog's frame and the scratch paths
    taken off, Go value dumps and anything past MAX_MESSAGE characters shortened."""
    message = _klog_error(stderr)
    message = message.removeprefix("error: ")
    message = message.replace(str(directory) + "/", "").replace(str(directory), shown)
    message = " ".join(line.strip() for line in message.splitlines() if line.strip())
    return shorten(message)


def _klog_error(stderr: str) -> str:
    """The ``err`` value of klog's ``"command failed"`` line: a quoted Go string, or klog's block form
    for values that span lines (``err=<``, the lines indented by a tab, `` >``). Without that line
    (another kubectl), stderr itself."""
    lines = stderr.splitlines()
    for number, line in enumerate(lines):
        found = _KLOG_LINE.search(line)
        if found is None:
            continue
        if found.group(1) is not None:
            return _GO_ESCAPE.sub(_unescape, found.group(1))
        block = []
        for inner in lines[number + 1 :]:
            if inner.rstrip() == ">" or inner.startswith(" >"):
                break
            block.append(inner.removeprefix("\t"))
        return "\n".join(block)
    meaningful = [line for line in lines if line.strip()]
    return "\n".join(meaningful) if meaningful else "failed"


def _unescape(match: re.Match[str]) -> str:
    escape = match.group(0)[1:]
    if escape[0] in "xuU":
        return chr(int(escape[1:], 16))
    return _GO_ESCAPES.get(escape, escape)


# a Go value printed with %#v: ``map[string]interface {}{...}`` or ``[]interface {}{...}``
_GO_DUMP = re.compile(r"(?:map\[[^\]\s]+\]|\[\])[\w.]+(?: \{\})?\{")
_DUMP_KEPT = 80  # characters of a dump kept before saying how much was left out


def shorten(message: str) -> str:
    """Go value dumps over a few lines cut to their start; what is still over MAX_MESSAGE characters cut
    in the middle. Each cut says how many characters it left out."""
    out = []
    position = 0
    for match in _GO_DUMP.finditer(message):
        if match.start() < position:
            continue  # inside a dump already cut
        end = _closing_brace(message, match.end() - 1)
        if end - match.start() <= _DUMP_KEPT * 2:
            continue
        keep = match.start() + _DUMP_KEPT
        out.append(message[position:keep])
        out.append(f"... ({end - keep:,} characters of a Go value left out)")
        position = end
    out.append(message[position:])
    shortened = "".join(out)
    if len(shortened) > MAX_MESSAGE:
        half = MAX_MESSAGE // 2
        left_out = len(shortened) - 2 * half
        shortened = f"{shortened[:half]} ... ({left_out:,} characters left out) ... {shortened[-half:]}"
    return shortened


def _closing_brace(text: str, opening: int) -> int:
    """The index after the brace closing the one at ``opening``, Go-quoted strings skipped; the text's
    end when it is not closed."""
    depth = 0
    index = opening
    quoted = False
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\":
                index += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return len(text)


def _objects(stream: str, wrapper: Path) -> list[Built]:
    loaded = loads(stream) if stream.strip() else []
    documents = loaded if isinstance(loaded, list) else [loaded]
    objects = []
    for data in documents:
        if not isinstance(data, dict):
            continue
        objects.append(Built(data, _take_origin(data, wrapper)))
    return objects


def _take_origin(data: dict[str, Any], wrapper: Path) -> Path | None:
    """Remove the origin annotation kustomize added for us and return the file it names."""
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict) or ORIGIN not in annotations:
        return None
    text = annotations.pop(ORIGIN)
    if not annotations:
        del metadata["annotations"]  # type: ignore[union-attr]
    try:
        origin = loads(str(text))
    except YamlError:
        return None
    if not isinstance(origin, dict) or origin.get("repo"):
        return None
    path = origin.get("path") or origin.get("configuredIn")  # a generator's object: its kustomization
    if not isinstance(path, str) or is_remote(path):
        return None
    return Path(os.path.normpath(wrapper / path))
