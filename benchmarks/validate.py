"""Time a whole `clusterforge validate` process on a generated tree of 10,002 resources.

Deployments, Services, ConfigMaps, OCIRepositories, HelmReleases (app-template, values checked
against its chart schema) and ServiceMonitors, 50 documents per file, spread over 20 namespaces,
all referring to each other (envFrom, configMapKeyRef, chartRef, ServiceMonitor selectors and
ports), so schema checks and cross-references both run. Cold: an empty schema cache; warm: the
cache the cold run left. Each figure is the median of 5 runs, after one untimed run that compiles
byte code.

Run: python benchmarks/validate.py [--resources N] [--jobs N] [--parsers] [--schema-location LOC]...
Schemas: CRD kinds from the bundled schemas; chart values from --schema-location, else
$CLUSTERFORGE_SCHEMA_LOCATION (a location holding charts/app-template/4.1.1/values.schema.json);
without either, the HelmReleases' values are not checked against a chart schema.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
PER_FILE = 50
NAMESPACES = 20

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: app-{i}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{i}
    spec:
      containers:
        - name: app
          image: ghcr.io/example/app:1.{i}.0
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          envFrom:
            - configMapRef:
                name: app-{i}-config
          env:
            - name: LOG_LEVEL
              valueFrom:
                configMapKeyRef:
                  name: app-{i}-config
                  key: LOG_LEVEL
          resources:
            requests:
              cpu: 10m
              memory: 64Mi
            limits:
              memory: 128Mi
          readinessProbe:
            httpGet:
              path: /ready
              port: http
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: app-{i}
spec:
  selector:
    app.kubernetes.io/name: app-{i}
  ports:
    - name: http
      port: 80
      targetPort: http
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{i}-config
  namespace: {ns}
data:
  LOG_LEVEL: info
  LISTEN: ":8080"
"""
OCIREPOSITORY = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  interval: 12h
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
  ref:
    tag: 4.1.1
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
"""
HELMRELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: app-{i}
  values:
    controllers:
      worker:
        containers:
          worker:
            image:
              repository: ghcr.io/example/worker
              tag: 1.{i}.0
            envFrom:
              - configMapRef:
                  name: app-{i}-config
"""
SERVICEMONITOR = """\
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{i}
  endpoints:
    - port: http
      interval: 30s
      path: /metrics
"""
KINDS = (DEPLOYMENT, SERVICE, CONFIGMAP, OCIREPOSITORY, HELMRELEASE, SERVICEMONITOR)


def generate(root: Path, resources: int) -> int:
    documents = []
    for n in range(resources):
        app, kind = divmod(n, len(KINDS))
        documents.append(KINDS[kind].format(i=app, ns=f"team-{app % NAMESPACES}"))
    for start in range(0, len(documents), PER_FILE):
        number = start // PER_FILE
        target = root / f"team-{number % NAMESPACES}" / f"resources-{number:04d}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("---\n" + "---\n".join(documents[start : start + PER_FILE]))
    return len(documents)


SCHEMA_LOCATIONS: list[str] = []  # --schema-location arguments


def locations() -> list[str]:
    given = os.environ.get("CLUSTERFORGE_SCHEMA_LOCATION")
    entries = SCHEMA_LOCATIONS or ([e for e in given.split(",") if e] if given else [])
    return [arg for entry in entries for arg in ("--schema-location", entry)]


def program() -> list[str]:
    script = Path(sys.executable).with_name("clusterforge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "generator"]


def timed(tree: Path, cache: Path, jobs: int | None) -> float:
    # byte code is written (as after any install): a sandbox may forbid it by default
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["CLUSTERFORGE_CACHE_DIR"] = str(cache)
    args = [*program(), "validate", str(tree), *locations(), *(["--jobs", str(jobs)] if jobs else [])]
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False, cwd=tree)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"validate failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


PARSERS = """\
import glob, sys, time
files = sorted(glob.glob(sys.argv[2] + "/*/*.yaml"))
texts = [open(f, encoding="utf-8").read() for f in files]
which = sys.argv[1]
if which == "yaml_rs":
    import yaml_rs
    parse = lambda t: yaml_rs.loads(t, parse_datetime=False)
elif which == "pyyaml-load":
    import yaml
    parse = lambda t: list(yaml.load_all(t, Loader=yaml.CSafeLoader))
elif which == "pyyaml-compose":
    import yaml
    parse = lambda t: list(yaml.compose_all(t, Loader=yaml.CSafeLoader))
elif which == "rapidyaml":
    import ryml
    parse = lambda t: ryml.parse_in_arena(t.encode())
elif which == "ryaml":
    import ryaml
    parse = ryaml.loads_all
times = []
for _ in range(3):
    start = time.perf_counter()
    for text in texts:
        parse(text)
    times.append(time.perf_counter() - start)
print(min(times))
"""
PARSER_NOTES = {
    "yaml_rs": "Rust, Python objects, duplicate keys rejected (the one clusterforge uses)",
    "pyyaml-load": "PyYAML C loader to Python objects; duplicates silently kept, no positions",
    "pyyaml-compose": "PyYAML C composer: node marks for a duplicate-key check, no objects yet",
    "rapidyaml": "C++ tree only (no Python objects, no duplicate-key check)",
    "ryaml": "Rust, Python objects",
}


def parse_time(tree: Path, name: str) -> float | None:
    """Seconds one parser takes over the tree (best of 3, in one process), None when it is not installed."""
    argv = [sys.executable, "-c", PARSERS, name, str(tree)]
    proc = subprocess.run(argv, check=False, capture_output=True, text=True)
    return float(proc.stdout) if proc.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_002)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: clusterforge decides)")
    parser.add_argument("--parsers", action="store_true", help="also time the YAML parsers alone on the tree")
    parser.add_argument(
        "--schema-location", action="append", default=[], help="chart values schemas (repeatable; see above)"
    )
    options = parser.parse_args()
    SCHEMA_LOCATIONS.extend(options.schema_location)
    if not locations():
        print("note: no schema location given: the HelmReleases' values are not checked against a chart schema")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tree = work / "tree"
        count = generate(tree, options.resources)
        size = sum(p.stat().st_size for p in tree.rglob("*.yaml"))
        timed(tree, work / "cache-warm-up", options.jobs)  # compiles byte code; not counted
        cold = []
        for run in range(RUNS):
            cache = work / f"cache-{run}"
            cold.append(timed(tree, cache, options.jobs))
        warm_cache = work / "cache-0"
        warm = [timed(tree, warm_cache, options.jobs) for _ in range(RUNS)]
        names = list(PARSER_NOTES) if options.parsers else ["yaml_rs"]
        parses = {name: parse_time(tree, name) for name in names}
        shutil.rmtree(tree)  # the benchmark's own scratch tree
    files = -(-count // PER_FILE)
    print(f"tree:  {count} resources in {files} files ({size / 1e6:.1f} MB), {PER_FILE} documents per file")
    for label, times in (("cold", cold), ("warm", warm)):
        median = statistics.median(times)
        print(
            f"{label}:  {median:.3f} s wall (median of {RUNS}; min {min(times):.3f}, max {max(times):.3f}), "
            f"{count / median:,.0f} resources/s"
        )
    print("reference: kubeconform v0.7.0 -strict -n 2, schema checks only: 0.66 s for 10,002 such resources")
    print("YAML parsing alone, one process (how fast this machine is right now, and the parsers compared):")
    for name, seconds in parses.items():
        shown = f"{seconds * 1000:6.0f} ms" if seconds is not None else "   not installed"
        print(f"  {name:15s}{shown}   {PARSER_NOTES[name]}")


if __name__ == "__main__":
    main()
