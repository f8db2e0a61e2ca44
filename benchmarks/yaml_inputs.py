"""What checking every YAML input costs: settings loads and validate's reading of a large tree.

Settings: load_settings on the shipped example (cluster.example.yaml and models.example.yaml),
and parse_yaml on a 1,000-model models.yaml, each compared with PyYAML's bare C composer on the
same text. validate: every file of the 10,002-resource tree benchmarks/validate.py generates (4 MB),
read as validate reads it (parse_stream: UTF-8 decode, the character check, yaml_rs, documents
cut at their markers) and with the two steps the checks add alone, compared with decoding and
yaml_rs.loads only. Each figure is the median of RUNS runs in this one process.

Run: python benchmarks/yaml_inputs.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
import yaml_rs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.validate import generate  # noqa: E402
from generator.settings.load import load_settings  # noqa: E402
from generator.validate.documents import parse_stream  # noqa: E402
from generator.yamlsource import parse_yaml  # noqa: E402
from generator.yamltext import checked_text, may_hold_huge_int  # noqa: E402
from tests.conftest import copy_example  # noqa: E402

MODEL = """\
  - name: model-{i}
    provider: openai
    model: gpt-4o
    credential: openai
    rpm: {i}
    tags: [team-{t}, tier-{t}]
"""


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    runs = options.runs
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        copy_example(work)
        config = work / "cluster.example.yaml"
        example = median_ms(lambda: load_settings(config), runs * 10)
        models = "models:\n" + "".join(MODEL.format(i=i, t=i % 7) for i in range(1000))
        checked = median_ms(lambda: parse_yaml(models, "models.yaml"), runs)
        bare = median_ms(lambda: yaml.compose(models, Loader=yaml.CSafeLoader), runs)

        tree = work / "tree"
        count = generate(tree, 10_002)
        files = sorted(tree.rglob("*.yaml"))
        blobs = [f.read_bytes() for f in files]
        size = sum(len(b) for b in blobs)
        plain = median_ms(lambda: [yaml_rs.loads(b.decode("utf-8"), parse_datetime=False) for b in blobs], runs)
        text_checks = median_ms(lambda: [checked_text(b, "f") for b in blobs], runs)
        texts = [b.decode() for b in blobs]
        number_scan = median_ms(lambda: [may_hold_huge_int(t) for t in texts], runs)
        streams = median_ms(lambda: [parse_stream(f, f.name) for f in files], runs)

    print(f"settings: load_settings on the example: {example:.2f} ms (median of {runs * 10})")
    print(
        f"settings: 1,000 models ({len(models) / 1e3:.0f} kB): parse_yaml {checked:.1f} ms, "
        f"PyYAML compose alone {bare:.1f} ms ({checked / bare:.2f}x)"
    )
    print(f"validate: {count} resources in {len(files)} files ({size / 1e6:.1f} MB), median of {runs}:")
    print(f"  decode + yaml_rs.loads               {plain:7.1f} ms")
    print(f"  parse_stream (what validate does)    {streams:7.1f} ms ({streams / plain:.2f}x)")
    print(f"    of which the text checks (decode, forbidden characters): {text_checks:.1f} ms")
    print(f"    of which the long-number scan:                           {number_scan:.1f} ms")


if __name__ == "__main__":
    main()
