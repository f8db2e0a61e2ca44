"""validate stays offline, inside the tree and bounded: remote entries are errors and never fetched,
nothing outside the paths and the repository is read, kubectl dials nowhere and has a memory and a
time bound, kustomize's errors come whole, oversized objects are errors.

The network and file tests run validate under strace (CI installs it and sets
CLUSTERFORGE_REQUIRE_STRACE=1, which turns a missing one into a failure).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.validate import expansion, kustomize, sizes
from generator.validate.kustomization import is_git_url, is_remote
from tests.conftest import ROOT, run_cli
from tests.hostile import (
    CONFIGMAP,
    HOSTILE,
    KUSTOMIZATION,
    Hostile,
    app,
    billion_laughs,
    git_resource,
    helm_chart_repo,
    nested,
    one_error,
    url_resource,
)


def validate(folder: Path, *extra: str) -> tuple[int, str]:
    result = run_cli(folder, "validate", ".", "--repo-root", ".", "--ignore-missing-schemas", *extra)
    return result.exit_code, result.output


@pytest.mark.parametrize("case", HOSTILE, ids=[case.name for case in HOSTILE])
def test_hostile_tree_ends_with_its_one_clear_error(case: Hostile, tmp_path: Path) -> None:
    folder = case.build(tmp_path)
    code, output = validate(folder)
    assert code == 1, output
    assert one_error(output, case.expect), output


# --- remote entries, as kustomize 5.5 reads them ------------------------------------------------

# From kustomize's own tests (api/internal/git/repospec_test.go at kustomize/v5.5.0): URLs its
# NewRepoSpecFromURL accepts (so its loader clones them with git) and strings it refuses.
KUSTOMIZE_GIT_URLS = [
    "https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo/somedir",
    "http://github.com/someorg/somerepo/somedir",
    "git@github.com:someorg/somerepo/somedir",
    "git@gitlab2.sqtools.ru:infra/kubernetes/thanos-base.git?ref=v0.1.0",
    "ssh://git@bitbucket.org/company/project.git//path?ref=branch",
    "git::https://itfs.mycompany.com/collection/project/_git/somerepos",
    "https://github.com/kubernetes-sigs/kustomize//examples/multibases/dev/?ref=v1.0.6",
    "file://a/b/c/someRepo.git/somepath?ref=someBranch",
    "file:///a/b/c/someRepo",
    "org-12345@github.com/kubernetes-sigs/kustomize",
    "git@gist.github.com:bc7947cb727d7f9217e7862d961a1ffd.git",
    "github.com/kubernetes-sigs/kustomize/examples/helloWorld?ref=v3.3.1",
]
KUSTOMIZE_NOT_GIT = [
    "/tmp",
    "../../tmp",
    "src/github.com/org/repo/path",
    "iauhsdiuashduas",
    "htxxxtp://github.com/",
    "ssh://git.example.com",
    "https://host?ref=group/version/minor_version",
    "https://github.com/org/repo.git//path/../../exits/repo",
    "github.com!org/repo.git//path",
    "gh:org/repo",
    "https://github.com/thisisa404.yaml",
    "file:////tmp//path/to/whatever",
    "git@scp://github.com/org/repo.git//path",
]


@pytest.mark.parametrize("url", KUSTOMIZE_GIT_URLS)
def test_what_kustomize_clones_is_remote(url: str) -> None:
    assert is_git_url(url)
    assert is_remote(url, clonable=True)


@pytest.mark.parametrize("entry", KUSTOMIZE_NOT_GIT)
def test_what_kustomize_does_not_clone_is_no_git_url(entry: str) -> None:
    assert not is_git_url(entry)


def test_a_file_kustomize_loads_is_remote_only_as_a_url() -> None:
    assert is_remote("https://example.com/patch.yaml", clonable=False)
    assert is_remote("HTTP://example.com/patch.yaml", clonable=False)
    assert not is_remote("github.com/org/repo/patch.yaml", clonable=False)  # a local file for a patch
    assert not is_remote("../base/patch.yaml", clonable=False)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("components:\n  - https://github.com/example/platform//components/tls?ref=v1\n", "components[0]"),
        ("patches:\n  - path: https://example.com/patch.yaml\n", "patches[0].path"),
        ("crds:\n  - https://example.com/crd.yaml\n", "crds[0]"),
        ("configMapGenerator:\n  - name: c\n    files:\n      - https://example.com/app.conf\n", "files[0]"),
        ("openapi:\n  path: https://example.com/schema.json\n", "openapi.path"),
        ("transformers:\n  - git@github.com:example/platform.git//transformers\n", "transformers[0]"),
        (
            "helmChartInflationGenerator:\n  - chartName: x\n    chartRepoUrl: https://charts.example.com\n",
            "chartRepoUrl",
        ),
    ],
)
def test_every_remote_kind_of_entry_is_an_error(body: str, key: str, tmp_path: Path) -> None:
    code, output = validate(app(tmp_path, "resources:\n  - configmap.yaml\n" + body))
    assert code == 1
    assert f"{key}: remote resource not fetched (validate works offline): " in output, output


def test_a_base_beside_the_paths_is_read_and_its_remote_entries_refused(tmp_path: Path) -> None:
    """validate apps/ in a repository whose base (outside apps/, inside the repository) names a URL."""
    base = tmp_path / "base"
    base.mkdir()
    (base / "kustomization.yaml").write_text(KUSTOMIZATION + "resources:\n  - https://example.com/x.yaml\n")
    web = tmp_path / "apps" / "web"
    web.mkdir(parents=True)
    (web / "kustomization.yaml").write_text(KUSTOMIZATION + "resources:\n  - configmap.yaml\n  - ../../base\n")
    (web / "configmap.yaml").write_text(CONFIGMAP)
    result = run_cli(tmp_path, "validate", "apps", "--repo-root", ".", "--ignore-missing-schemas")
    assert result.exit_code == 1
    assert "base/kustomization.yaml:4: resources[0]: remote resource not fetched" in result.output


def test_a_resource_symlinked_outside_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(CONFIGMAP)
    repo = app(tmp_path / "repo", "resources:\n  - configmap.yaml\n  - linked.yaml\n")
    os.symlink(outside, repo / "app" / "linked.yaml")
    code, output = validate(repo, "--exclude", "linked.yaml")
    assert code == 1
    assert f"resources[1]: linked.yaml leads to {outside} (a symlink), outside the paths given" in output, output


# --- no network, no git, nothing read outside: watched with strace --------------------------------


def strace() -> str:
    found = shutil.which("strace")
    if found is None:
        if os.environ.get("CLUSTERFORGE_REQUIRE_STRACE") == "1":
            pytest.fail("strace is required here (CLUSTERFORGE_REQUIRE_STRACE=1)")
        pytest.skip("no strace on PATH")
    return found


def traced(folder: Path, calls: str, log: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`clusterforge validate` in ``folder`` under strace, following every process it starts."""
    argv = [strace(), "-f", "-qq", "-e", f"trace={calls}", "-o", str(log)]
    argv += [sys.executable, "-m", "generator", "validate", ".", "--repo-root", ".", "--ignore-missing-schemas"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, env=env, timeout=120, check=False)
    return done, log.read_text().splitlines()


def test_validate_runs_no_git_and_connects_nowhere(tmp_path: Path) -> None:
    """Remote resources, a remote chart and a kustomization that does build (so kubectl runs)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name, build in (("url", url_resource), ("git", git_resource), ("helm", helm_chart_repo)):
        shutil.move(build(tmp_path / name) / "app", repo / name)
    shutil.move(app(tmp_path / "plain", "resources:\n  - configmap.yaml\n") / "app", repo / "plain")
    done, trace = traced(repo, "execve,connect,sendto,sendmsg", tmp_path / "trace")
    assert done.returncode == 1, done.stderr
    assert done.stdout.count("remote resource not fetched (validate works offline)") == 3, done.stdout
    programs = [m.group(1) for line in trace if (m := re.search(r'execve\("([^"]+)"', line))]
    assert any(p.endswith("/kubectl") for p in programs), programs  # the plain kustomization was built
    assert not [p for p in programs if p.endswith("/git") or "git-" in p], programs
    inet = [line for line in trace if re.search(r"(connect|sendto|sendmsg)\(", line) and "AF_INET" in line]
    assert inet == []


def test_kubectl_dials_no_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even with a KUBECONFIG naming a server (it is not passed on), kubectl connects nowhere."""
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
        "clusters: [{name: k, cluster: {server: 'https://192.0.2.10:6443'}}]\n"
    )
    repo = app(tmp_path / "repo", "resources:\n  - configmap.yaml\n")
    monkeypatch.setenv("KUBECONFIG", str(config))
    done, trace = traced(repo, "execve,connect", tmp_path / "trace")
    assert done.returncode == 0, done.stdout + done.stderr
    assert any("kubectl" in line and "execve(" in line for line in trace)
    assert [line for line in trace if "connect(" in line and "AF_INET" in line] == []


def test_nothing_outside_the_repository_is_opened(tmp_path: Path) -> None:
    """A folder and a symlink leading out of the repository: neither the folder's files nor the symlink's
    target is opened, by validate or by anything it runs."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text(KUSTOMIZATION + "resources:\n  - configmap.yaml\n")
    (outside / "configmap.yaml").write_text(CONFIGMAP)
    (outside / "secret.yaml").write_text(CONFIGMAP.replace("settings", "secret"))
    repo = tmp_path / "repo"
    web = repo / "apps" / "web"
    web.mkdir(parents=True)
    (web / "kustomization.yaml").write_text(KUSTOMIZATION + "resources:\n  - configmap.yaml\n  - ../../../outside\n")
    (web / "configmap.yaml").write_text(CONFIGMAP)
    os.symlink(outside / "secret.yaml", repo / "secret.yaml")
    done, trace = traced(repo, "open,openat,openat2,execve", tmp_path / "trace")
    assert done.returncode == 1
    assert "../../../outside is outside the paths given and the repository root: not read" in done.stdout
    assert f"secret.yaml: a symlink to {outside / 'secret.yaml'}, outside" in done.stdout
    assert [line for line in trace if str(outside) in line] == []


# --- kubectl's bounds -------------------------------------------------------------------------------


def test_kubectl_stops_at_its_memory_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A billion-laughs resource given to kubectl directly (validate would not): the bound stops it."""
    monkeypatch.setattr(kustomize, "MEMORY", 256 * 1024 * 1024)
    repo = app(tmp_path, "resources:\n  - laughs.yaml\n", {"laughs.yaml": billion_laughs()})
    [build] = kustomize.build_dirs([repo / "app"], {})
    assert build.error == "kubectl kustomize needed more than the 256 MiB of memory validate allows it"


def test_kubectl_stops_at_its_time_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 levels of block nesting keep kubectl busy for seconds (validate would not pass them on)."""
    monkeypatch.setattr(kustomize, "TIMEOUT", 1)
    deep = CONFIGMAP + "nested:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(5000)) + " " * 5001 + "1\n"
    repo = app(tmp_path, "resources:\n  - deep.yaml\n", {"deep.yaml": deep})
    [build] = kustomize.build_dirs([repo / "app"], {})
    assert build.error == "kubectl kustomize did not finish within the 1 s validate allows it"


# --- kustomize's errors, whole ------------------------------------------------------------------------

# kubectl's stderr as it prints it: klog's block form for a value that spans lines
HELM_STDERR = """\
E1205 23:03:09.402281   18624 run.go:72] "command failed" err=<
\ttrouble configuring builtin HelmChartInflationGenerator with config: `
\tname: podinfo
\trepo: https://stefanprodan.github.io/podinfo
\tversion: 6.0.0
\t`: must specify --enable-helm
 >
"""


def test_an_error_over_several_lines_is_kept_whole() -> None:
    message = kustomize.kustomize_message(HELM_STDERR, Path("/repo/app"), "app")
    assert message == (
        "trouble configuring builtin HelmChartInflationGenerator with config: ` name: podinfo "
        "repo: https://stefanprodan.github.io/podinfo version: 6.0.0 `: must specify --enable-helm"
    )


def test_a_quoted_error_is_unescaped_and_its_paths_shown_as_given() -> None:
    stderr = (
        'E1205 23:03:09.225740   18604 run.go:72] "command failed" err="accumulating resources: '
        "accumulation err='accumulating resources from 'x.yaml': evalsymlink failure on "
        "'/repo/app/x.yaml' : lstat /repo/app/x.yaml: no such file or directory': "
        'must build at directory: \\"x\\"\\tmissing"\n'
    )
    message = kustomize.kustomize_message(stderr, Path("/repo/app"), "app")
    assert message == (
        "accumulating resources: accumulation err='accumulating resources from 'x.yaml': evalsymlink failure "
        "on 'x.yaml' : lstat x.yaml: no such file or directory': must build at directory: \"x\"\tmissing"
    )


def test_a_go_value_dump_is_cut_to_its_start() -> None:
    """kubectl's answer to 10,000 levels of nesting: the whole object printed with %#v (310 KB here)."""
    dump = 'map[string]interface {}{"apiVersion":"v1", "x":' + "map[string]interface {}{" * 3000
    dump += '"a":1' + "}" * 3001
    stderr = f'E1205 run.go:72] "command failed" err="{dump.replace(chr(34), chr(92) + chr(34))}: yaml: exceeded"\n'
    message = kustomize.kustomize_message(stderr, Path("/repo/app"), "app")
    kept = dump[:80]
    assert message == f"{kept}... ({len(dump) - 80:,} characters of a Go value left out): yaml: exceeded"


def test_a_long_message_is_cut_in_the_middle() -> None:
    stderr = '"command failed" err="' + "a" * 1500 + "b" * 1500 + '"\n'
    message = kustomize.kustomize_message(stderr, Path("/repo"), ".")
    assert message == "a" * 1000 + " ... (1,000 characters left out) ... " + "b" * 1000


# --- sizes the API server refuses -------------------------------------------------------------------------

MIB = 1024 * 1024


def test_configmap_data_is_counted_as_the_api_server_counts_it() -> None:
    """data values (UTF-8 bytes) and binaryData (decoded) together; keys are not counted."""
    at_limit = {"data": {"k" * 200: "x" * (MIB - 3)}, "binaryData": {"b": "AAAA"}}  # AAAA: 3 bytes decoded
    assert sizes.too_big("", "ConfigMap", at_limit) is None
    over = {"data": {"k": "é" * (MIB // 2)}, "binaryData": {"b": "AAAA"}}  # é: 2 bytes, so 1 MiB + 3
    assert sizes.too_big("", "ConfigMap", over) == (
        "data and binaryData hold 1.0 MiB (1,048,579 bytes): the API server refuses a ConfigMap over 1 MiB "
        "(1,048,576 bytes)"
    )


def test_secret_string_data_overwrites_data_before_the_count() -> None:
    big = "A" * (MIB // 3 * 4 + 8)  # base64 of just over 1 MiB
    assert sizes.too_big("", "Secret", {"data": {"k": big}}) is not None
    assert sizes.too_big("", "Secret", {"data": {"k": big}, "stringData": {"k": "small"}}) is None
    message = sizes.too_big("", "Secret", {"stringData": {"k": "x" * (MIB + 1)}})
    assert message is not None
    assert message.startswith("data (stringData included) hold 1.0 MiB (1,048,577 bytes)")


def test_a_sops_secret_is_counted_by_its_plain_values() -> None:
    """sops keeps each value's ciphertext (as long as the plain value) in base64 after ``data:``."""
    cipher = "A" * 700_000  # base64 of 525,000 bytes: the plain value, itself base64 of 393,750 bytes
    value = f"ENC[AES256_GCM,data:{cipher},iv:aaaa,tag:bbbb,type:str]"
    assert sizes.too_big("", "Secret", {"data": {"a": value, "b": value}}, sops=True) is None
    assert sizes.too_big("", "Secret", {"data": {"a": value, "b": value, "c": value}}, sops=True) is not None


def test_any_object_past_etcds_request_limit() -> None:
    crd = {"apiVersion": "example.com/v1", "kind": "Thing", "spec": {"items": ["x" * 100] * 16_000}}
    message = sizes.too_big("example.com", "Thing", crd)
    assert message is not None
    # {"apiVersion":"example.com/v1","kind":"Thing","spec":{"items":[ is 63 bytes, ]}} 3, each item 102 and a comma
    assert message.startswith("the object is 1.6 MiB (1,648,065 bytes) as JSON")
    assert "etcd refuses requests over 1.5 MiB (1,572,864 bytes" in message
    assert sizes.too_big("example.com", "Thing", {"spec": {"items": ["x" * 100] * 15_000}}) is None
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "x" * 500_000}}] * 4
    assert sizes.too_big("", "List", {"apiVersion": "v1", "kind": "List", "items": items}) is None


def test_an_oversized_configmap_as_written(tmp_path: Path) -> None:
    text = CONFIGMAP.replace("LOG_LEVEL: info", "blob: " + "x" * (MIB + 10))
    (tmp_path / "big.yaml").write_text(text)
    code, output = validate(tmp_path)
    assert code == 1
    assert output.splitlines()[0] == (
        "big.yaml:1: ConfigMap/apps/settings: data and binaryData hold 1.0 MiB (1,048,586 bytes): "
        "the API server refuses a ConfigMap over 1 MiB (1,048,576 bytes)"
    )


def test_an_oversized_configmap_a_build_makes(tmp_path: Path) -> None:
    """Two literals of 600 KB each: small files, a ConfigMap past the limit once kustomize builds it."""
    literal = "x" * 600_000
    generator = f"configMapGenerator:\n  - name: big\n    literals:\n      - a={literal}\n      - b={literal}\n"
    code, output = validate(app(tmp_path, "namespace: apps\nresources:\n  - configmap.yaml\n" + generator))
    assert code == 1
    assert re.search(r"ConfigMap/apps/big-\w+: data and binaryData hold 1\.1 MiB \(1,200,000 bytes\)", output), output


def test_generator_files_past_the_limit_keep_the_build_from_running(tmp_path: Path) -> None:
    generator = "configMapGenerator:\n  - name: assets\n    files:\n      - one.bin\n      - two.bin\n"
    repo = app(tmp_path, "resources:\n  - configmap.yaml\n" + generator)
    (repo / "app" / "one.bin").write_bytes(b"\0" * 600_000)
    (repo / "app" / "two.bin").write_bytes(b"\0" * 600_000)
    code, output = validate(repo)
    assert code == 1
    assert (
        "app/kustomization.yaml:6: configMapGenerator[0]: its files hold 1.1 MiB (1,200,000 bytes): "
        "the API server refuses a ConfigMap whose data passes 1 MiB (1,048,576 bytes)"
    ) in output, output


# --- YAML that would take kubectl past its bounds ---------------------------------------------------


def test_alias_expansion_is_measured_without_expanding() -> None:
    found = expansion.excess(billion_laughs())
    assert found is not None
    assert found.line == 11  # f: its sixth alias of e takes the expansion past 1.5 MiB
    assert found.message.startswith("its aliases expand to more than 1.5 MiB")
    assert expansion.excess("a: &x [1, 2]\nb: *x\nc: *x\n") is None


def test_nesting_is_bounded() -> None:
    assert expansion.excess(nested(expansion.MAX_DEPTH - 1)) is None
    found = expansion.excess(nested(expansion.MAX_DEPTH + 1))
    assert found is not None
    assert found.message.startswith(f"nests deeper than {expansion.MAX_DEPTH} levels")


def test_ordinary_manifests_are_not_parsed_twice() -> None:
    """The cheap look lets plain manifests through: only aliases, deep indentation or many brackets
    send a text to the event parser."""
    text = CONFIGMAP + "more:\n  verbs: ['*']\n  hosts: [\"*.example.com\"]\n  url: https://x/?a=1&b=2\n"
    assert not expansion.needs_check(text)
    assert expansion.needs_check(text + "alias: *a\n")
    assert expansion.needs_check(nested(100))


def test_aliases_in_a_resource_keep_kubectl_from_running(tmp_path: Path) -> None:
    """Aliases to a 100 KB string, 20 times: few events (yaml_rs reads it), 2 MB once expanded."""
    text = CONFIGMAP + "blob: &b " + "x" * 100_000 + "\ncopies: [" + ", ".join(["*b"] * 20) + "]\n"
    repo = app(tmp_path, "resources:\n  - configmap.yaml\n  - copies.yaml\n", {"copies.yaml": text})
    code, output = validate(repo)
    assert code == 1
    assert "app/copies.yaml:9: its aliases expand to more than 1.5 MiB" in output, output
    assert "kustomizations built" in output.splitlines()[-1] and "0 kustomizations built" in output


def test_a_resource_too_deep_for_kubectl_is_not_read_as_written_either(tmp_path: Path) -> None:
    """10,000 levels of block nesting: refused before kubectl, and not handed to the schema check
    (whose recursion it would exhaust) as the files of a root not built are."""
    deep = CONFIGMAP + "nested:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(10_000)) + " " * 10_001 + "1\n"
    repo = app(tmp_path, "resources:\n  - configmap.yaml\n  - deep.yaml\n", {"deep.yaml": deep})
    code, output = validate(repo)
    assert code == 1, output
    assert output.splitlines()[0] == (
        "app/deep.yaml:208: nests deeper than 200 levels: deeper than any Kubernetes object, "
        "and kustomize slows down with every level (40 s at 10,000)"
    )
