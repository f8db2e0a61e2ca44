"""The no-op record follows the repository: a copy, a move or a fresh clone checks its own files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import MODELS_FILE, Repo, git, models_file_repo, tree_bytes

CONFIGMAP = "kubernetes/apps/ai-system/litellm/app/configmap.yaml"
ANOTHER_MODEL = "  - name: gpt-4o-mini\n    provider: openai\n    model: gpt-4o-mini\n    credential: openai\n"


def configured(root: Path) -> Repo:
    repo = models_file_repo(root)
    result = repo.configure()
    assert result.exit_code == 0, result.output
    return repo


def record(repo: Repo) -> dict[str, object]:
    data: dict[str, object] = json.loads((repo.root / ".clusterforge" / "cluster.yaml.state.json").read_text())
    return data


def test_the_record_names_its_folder_and_keeps_paths_relative_to_it(tmp_path: Path) -> None:
    repo = configured(tmp_path / "repo")
    data = record(repo)
    assert data["root"] == str(repo.root)
    assert data["output"] == "output"
    assert set(data["inputs"]) == {"cluster.yaml", "models.yaml", "cluster.secrets.sops.yaml", ".sops.yaml", "age.key"}  # type: ignore[arg-type]
    assert data["secret_inputs"] == ["age.key"]
    assert str(tmp_path) not in json.dumps({k: v for k, v in data.items() if k != "root"})


def test_a_copied_repository_renders_its_own_models(tmp_path: Path) -> None:
    original = configured(tmp_path / "repo")
    before = tree_bytes(original.output)
    shutil.copytree(original.root, tmp_path / "copy", symlinks=True)  # cp -a: .clusterforge comes along
    copy = Repo(tmp_path / "copy")
    (copy.root / "models.yaml").write_text(MODELS_FILE + ANOTHER_MODEL)
    result = copy.configure()
    assert result.exit_code == 0, result.output
    assert f"change  output/{CONFIGMAP}" in result.output
    assert "model: openai/gpt-4o-mini" in (copy.output / CONFIGMAP).read_text()
    assert tree_bytes(original.output) == before
    assert record(copy)["root"] == str(copy.root)
    assert original.configure("--check").exit_code == 0  # the original is still what its settings render


def test_a_moved_repository_renders_its_own_models(tmp_path: Path) -> None:
    original = configured(tmp_path / "repo")
    moved = Repo(Path(shutil.move(original.root, tmp_path / "moved")))
    (moved.root / "models.yaml").write_text(MODELS_FILE + ANOTHER_MODEL)
    result = moved.configure()
    assert result.exit_code == 0, result.output
    assert f"change  output/{CONFIGMAP}" in result.output
    assert "model: openai/gpt-4o-mini" in (moved.output / CONFIGMAP).read_text()


def test_check_in_a_copy_reports_on_the_copy(tmp_path: Path) -> None:
    original = configured(tmp_path / "repo")
    shutil.copytree(original.root, tmp_path / "copy", symlinks=True)
    copy = Repo(tmp_path / "copy")
    shutil.rmtree(original.output)  # the original's tree is gone: the copy's is still complete
    check = copy.configure("--check")
    assert check.exit_code == 0, check.output
    assert check.output.strip() == "output is up to date (0 created, 0 changed, 38 unchanged, 0 removed)"
    (copy.output / CONFIGMAP).write_text((copy.output / CONFIGMAP).read_text() + "# edited\n")
    check = copy.configure("--check")
    assert check.exit_code == 1
    assert f"change: output/{CONFIGMAP}" in check.stderr
    assert not original.output.exists()


def test_a_fresh_clone_takes_the_full_path_and_finds_its_tree_up_to_date(tmp_path: Path) -> None:
    original = configured(tmp_path / "repo")
    git(original.root, "init", "-q")
    git(original.root, "add", "-A")
    git(original.root, "commit", "-qm", "configured")
    git(tmp_path, "clone", "-q", str(original.root), "clone")
    clone = Repo(tmp_path / "clone")
    assert not (clone.root / ".clusterforge").exists()  # gitignored
    shutil.copy(original.root / "age.key", clone.root / "age.key")  # the key is gitignored too
    (clone.root / "age.key").chmod(0o600)
    check = clone.configure("--check")
    assert check.exit_code == 0, check.output
    assert record(clone)["root"] == str(clone.root)
