"""The schemas clusterforge ships: extracted from upstream CRD files (``task schemas``).

``sources.yaml`` says where each upstream file comes from (repository, tag, commit, path, sha256),
which kinds of it are bundled and, for the charts clusterforge installs, which ``versions.yaml`` pin
it belongs to. The files themselves are not kept in the repository: they are fetched at those tags into
a sources folder (``<project>/<file name>``; ``--sources DIR``, else ``$CLUSTERFORGE_CRD_SOURCES``, else
the gitignored ``generator/crds/upstream``). ``build`` refuses a file that is missing or whose sha256 is
not the listed one, naming what to fetch; it extracts the listed kinds with ``schemas extract``'s own
code and writes ``bundled/`` with an ``index.json`` that records what it was made from and the sha256
of every schema (configure's code digest reads the index, not the megabytes).
Run: ``python -m generator.crds.bundle [--sources DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from generator.crds import BUNDLED, INDEX, PROVENANCE, SOURCES_ENV, UPSTREAM
from generator.crds.extract import Extraction, Schema, collect, write_all
from generator.crds.read import Reading, read_text
from generator.errors import ClusterforgeError, InputError, Problem, UsageError

SOURCES = PROVENANCE.name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Chart(_Strict):
    pin: str  # the key in generator/versions.yaml
    version: str


class SourceFile(_Strict):
    path: str  # in the upstream repository
    sha256: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class Source(_Strict):
    project: str  # its folder in the sources folder
    repository: str
    tag: str
    commit: str
    chart: Chart | None = None
    license: str
    note: str = ""
    files: list[SourceFile]
    kinds: list[str]

    def fetched(self, file: SourceFile, upstream: Path) -> Path:
        return upstream / self.project / file.name


def sources_folder(given: Path | None = None) -> Path:
    """Where the upstream CRD files are: the folder given, else $CLUSTERFORGE_CRD_SOURCES, else upstream/."""
    if given is not None:
        return given
    from_env = os.environ.get(SOURCES_ENV, "")
    return Path(from_env) if from_env else UPSTREAM


def load_sources(path: Path = PROVENANCE) -> list[Source]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [Source.model_validate(entry) for entry in loaded]
    except (OSError, yaml.YAMLError, TypeError, ValidationError) as exc:
        raise UsageError(f"{path}: {exc}") from exc


def load_index(bundled: Path = BUNDLED) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((bundled / INDEX).read_text(encoding="utf-8"))
    return loaded


def check_sources(sources: list[Source], upstream: Path) -> list[Problem]:
    """A problem for every listed file that is not in ``upstream`` as the provenance says, naming what to fetch."""
    problems: list[Problem] = []
    for source in sources:
        for file in source.files:
            path = source.fetched(file, upstream)
            wanted = f"{file.path} of {source.repository} at {source.tag} (commit {source.commit})"
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                problems.append(Problem(str(path), None, None, "", f"missing: fetch {wanted} to this path"))
                continue
            if digest != file.sha256:
                problems.append(
                    Problem(
                        str(path), None, None, "", f"sha256 is {digest}, {SOURCES} says {file.sha256}: not {wanted}"
                    )
                )
    return problems


def extract_sources(sources: list[Source], upstream: Path) -> dict[str, bytes]:
    """Every bundled file by its path under bundled/, the index included."""
    problems = check_sources(sources, upstream)
    if problems:
        raise InputError(problems)
    chosen: list[Schema] = []
    origin: dict[str, str] = {}
    for source in sources:
        reading = Reading()
        for file in source.files:
            data = source.fetched(file, upstream).read_bytes()
            read_text(data.decode("utf-8"), f"{source.project}/{file.name}", reading)
        schemas, found = collect(reading)
        problems += found
        wanted = [schema for schema in schemas if schema.kind in source.kinds]
        for kind in sorted(set(source.kinds) - {schema.kind for schema in wanted}):
            problems.append(Problem(source.project, None, None, "", f"no CRD of kind {kind} in its files"))
        chosen += wanted
        origin.update((schema.relative, source.project) for schema in wanted)
    if problems:
        raise InputError(problems)
    files = {schema.relative: schema.text for schema in chosen}
    files[INDEX] = index_text(sources, files, origin)
    return files


def index_text(sources: list[Source], files: dict[str, bytes], origin: dict[str, str]) -> bytes:
    index = {
        "made_by": "python -m generator.crds.bundle (task schemas) from the files generator/crds/sources.yaml lists",
        "sources": [source.model_dump(exclude_none=True) for source in sources],
        "schemas": {
            relative: {"project": origin[relative], "sha256": hashlib.sha256(data).hexdigest()}
            for relative, data in sorted(files.items())
        },
    }
    return (json.dumps(index, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def build(upstream: Path, bundled: Path = BUNDLED) -> Extraction:
    """Make ``bundled`` anew from the sources: a file no source makes any more is removed."""
    files = extract_sources(load_sources(), upstream)
    extraction = Extraction()
    staging = Path(tempfile.mkdtemp(prefix=".bundled-", dir=bundled.parent))
    try:
        write_all(staging, files, extraction)
        previous = bundled.with_name(bundled.name + ".old")
        if bundled.exists():
            bundled.rename(previous)
        staging.rename(bundled)
        shutil.rmtree(previous, ignore_errors=True)  # the bundle this build replaced
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # left only when the swap failed
    return extraction


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.crds.bundle", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sources", type=Path, help=f"the folder of upstream CRD files (default ${SOURCES_ENV}, else {UPSTREAM})"
    )
    upstream = sources_folder(parser.parse_args(argv).sources)
    try:
        extraction = build(upstream)
    except ClusterforgeError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return int(error.exit_code)
    kinds = len({path.rsplit("_", 1)[0] for path in extraction.written if path != INDEX})
    print(f"{BUNDLED}: {len(extraction.written) - 1} schemas of {kinds} kinds, and {INDEX}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
