"""Time whole `clusterforge validate` processes, CEL rules on and off, beside the real kubeconform.

Two trees. The mixed set: 10,002 resources (Deployments, Services, ConfigMaps, OCIRepositories,
HelmReleases of app-template with values checked against its chart schema, ServiceMonitors; 50
documents per file, 20 namespaces) that refer to each other, so schema checks and cross-references
both run. The CEL-heavy set: 1,000 Gateway API HTTPRoutes and 1,000 CloudNativePG Clusters (with
the 1,000 Services the routes send to and their Gateway), the kinds with the most CEL rules.

For each set, after one untimed run that compiles byte code and fills the schema cache: validate
with CEL on (the default), with --skip-cel, and kubeconform v0.7.0 -strict on the same files with
the same schemas (CRDs from the schema locations, core kinds from clusterforge's cache, in
kubeconform's layout), taken in turns, RUNS times each; figures are medians. kubeconform checks
schemas only: no CEL rules, no chart values, no kustomize builds, no references.

Run: python benchmarks/validate.py --schema-location CRDS [--schema-location CHARTS] [--kubeconform PATH]
     [--baseline CHECKOUT] [--resources N] [--heavy N] [--jobs N] [--parsers]
Schema locations default to $CLUSTERFORGE_SCHEMA_LOCATION (comma-separated); kubeconform to the
one on PATH. --baseline times `python -m generator validate` of another clusterforge checkout (for
instance `git archive main | tar -x -C /tmp/main`) on the mixed set too: before and after a change.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.validate.kubeconform import arguments  # noqa: E402
from generator.validate.locations import parse_location  # noqa: E402
from generator.validate.model import DEFAULT_KUBERNETES_VERSION  # noqa: E402
from generator.validate.schemas import CoreSchemas  # noqa: E402

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
    return write_files(root, documents, "team")


def write_files(root: Path, documents: list[str], folder: str) -> int:
    """The documents, PER_FILE to a file, spread over NAMESPACES folders; how many were written."""
    for start in range(0, len(documents), PER_FILE):
        number = start // PER_FILE
        target = root / f"{folder}-{number % NAMESPACES}" / f"resources-{number:04d}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("---\n" + "---\n".join(documents[start : start + PER_FILE]))
    return len(documents)


ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  parentRefs:
    - name: public
      namespace: gateway
      sectionName: https
  hostnames:
    - app-{i}.example.com
  rules:
    - name: api
      matches:
        - path:
            type: PathPrefix
            value: /api
          headers:
            - name: X-Tenant
              value: team-{i}
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set:
              - name: X-Route
                value: app-{i}
        - type: URLRewrite
          urlRewrite:
            path:
              type: ReplacePrefixMatch
              replacePrefixMatch: /
      timeouts:
        request: 30s
        backendRequest: 10s
      backendRefs:
        - name: app-{i}
          port: 80
          weight: 90
        - name: app-{i}
          port: 8080
          weight: 10
    - name: legacy
      matches:
        - path:
            type: Exact
            value: /old
      filters:
        - type: RequestRedirect
          requestRedirect:
            path:
              type: ReplaceFullPath
              replaceFullPath: /new
            statusCode: 301
"""
ROUTE_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: app-{i}
  ports:
    - name: http
      port: 80
      targetPort: 8080
    - name: admin
      port: 8080
      targetPort: 9090
"""
CLUSTER = """\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: db-{i}
  namespace: {ns}
spec:
  instances: 3
  imageName: ghcr.io/cloudnative-pg/postgresql:17.2
  primaryUpdateStrategy: unsupervised
  bootstrap:
    initdb:
      database: app
      owner: app
      localeProvider: icu
      icuLocale: en-US
  postgresql:
    parameters:
      max_connections: "200"
      shared_buffers: 256MB
    synchronous:
      method: any
      number: 1
  resources:
    requests:
      cpu: 100m
      memory: 512Mi
    limits:
      memory: 1Gi
  storage:
    size: 10Gi
  monitoring:
    enablePodMonitor: true
"""
GATEWAY_DOC = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: public
  namespace: gateway
spec:
  gatewayClassName: cilium
  listeners:
    - name: http
      protocol: HTTP
      port: 80
    - name: https
      protocol: HTTPS
      port: 443
      hostname: "*.example.com"
      tls:
        mode: Terminate
        certificateRefs:
          - name: wildcard-tls
"""


def generate_heavy(root: Path, count: int) -> int:
    """``count`` HTTPRoutes and CNPG Clusters, the Services the routes send to, and their Gateway."""
    documents = [GATEWAY_DOC]
    for i in range(count):
        ns = f"team-{i % NAMESPACES}"
        documents += [ROUTE.format(i=i, ns=ns), ROUTE_SERVICE.format(i=i, ns=ns), CLUSTER.format(i=i, ns=ns)]
    return write_files(root, documents, "part")


def _environment(cache: Path, pythonpath: Path | None = None) -> dict[str, str]:
    # byte code is written (as after any install): a sandbox may forbid it by default
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CLUSTERFORGE_SCHEMA_LOCATION")}
    env["CLUSTERFORGE_CACHE_DIR"] = str(cache)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and the workers it waited for)."""
    cpu, start = _cpu(), time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False, cwd=cwd)
    elapsed, used = time.perf_counter() - start, _cpu() - cpu
    if proc.returncode not in ok:
        raise SystemExit(
            f"{' '.join(args[:3])} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )
    return elapsed, used


def validate_runner(
    tree: Path,
    cache: Path,
    locations: list[str],
    jobs: int | None,
    extra: tuple[str, ...] = (),
    baseline: Path | None = None,
) -> Callable[[], tuple[float, float]]:
    args = [
        sys.executable,
        "-m",
        "generator",
        "validate",
        str(tree),
        *(a for loc in locations for a in ("--schema-location", loc)),
    ]
    args += [*(["--jobs", str(jobs)] if jobs else []), *extra]
    env = _environment(cache, baseline)
    return lambda: _timed(args, env, tree)


def kubeconform_runner(
    binary: str, tree: Path, cache: Path, locations: list[str], workers: int
) -> Callable[[], tuple[float, float]]:
    core = CoreSchemas(DEFAULT_KUBERNETES_VERSION, cache)
    args = [binary, *arguments(core, [parse_location(loc) for loc in locations], DEFAULT_KUBERNETES_VERSION)]
    args = [a for a in args if a not in ("-output", "json")]
    args += ["-summary", "-n", str(workers), str(tree)]
    return lambda: _timed(args, dict(os.environ), tree)


def _line(label: str, runs: list[tuple[float, float]], count: int) -> str:
    walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
    median = statistics.median(walls)
    return (
        f"  {label:40} {median:6.3f} s wall (min {min(walls):.3f}, max {max(walls):.3f}), "
        f"{statistics.median(cpus):6.3f} s CPU, {count / median:>7,.0f} resources/s"
    )


def measure(
    title: str, tree: Path, count: int, runners: dict[str, Callable[[], tuple[float, float]]], runs: int
) -> dict[str, list[tuple[float, float]]]:
    for run in runners.values():
        run()  # fills the schema cache and compiles byte code: not counted
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in runners}
    for _ in range(runs):
        for label, run in runners.items():  # in turns, so a busy machine slows each alike
            times[label].append(run())
    size = sum(p.stat().st_size for p in tree.rglob("*.yaml"))
    files = len(list(tree.rglob("*.yaml")))
    print(f"{title}: {count:,} resources in {files} files ({size / 1e6:.1f} MB); median of {runs} runs")
    for label, values in times.items():
        print(_line(label, values, count))
    return times


def _ratio(times: dict[str, list[tuple[float, float]]], label: str, reference: str) -> None:
    """Ratios of medians, wall and CPU, and the median of the ratios of runs taken side by side (what a
    machine whose load changes during the benchmark distorts least)."""
    if label in times and reference in times:
        wall = statistics.median(w for w, _ in times[label]) / statistics.median(w for w, _ in times[reference])
        cpu = statistics.median(c for _, c in times[label]) / statistics.median(c for _, c in times[reference])
        paired = statistics.median(a[0] / b[0] for a, b in zip(times[label], times[reference], strict=True))
        print(f"  {label} / {reference}: {wall:.2f} wall ({paired:.2f} run by run), {cpu:.2f} CPU")


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
    parser.add_argument("--schema-location", action="append", default=[], help="CRD and chart schemas (repeatable)")
    parser.add_argument("--kubeconform", default=shutil.which("kubeconform"), help="the kubeconform binary")
    parser.add_argument("--baseline", type=Path, help="another clusterforge checkout to time on the mixed set")
    parser.add_argument("--resources", type=int, default=10_002)
    parser.add_argument("--heavy", type=int, default=1_000, help="HTTPRoutes and CNPG Clusters in the CEL-heavy set")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: clusterforge decides)")
    parser.add_argument("--parsers", action="store_true", help="also time the YAML parsers alone on the tree")
    parser.add_argument(
        "--schema-location", action="append", default=[], help="chart values schemas (repeatable; see above)"
    )
    options = parser.parse_args()
    given = os.environ.get("CLUSTERFORGE_SCHEMA_LOCATION", "")
    locations = options.schema_location or [e for e in given.split(",") if e]
    if not locations:
        raise SystemExit("give the CRD and chart schemas: --schema-location DIR (or $CLUSTERFORGE_SCHEMA_LOCATION)")
    workers = os.cpu_count() or 2
    kubeconform = f"kubeconform v0.7.0 -strict -n {workers}"
    if not options.kubeconform:
        print("kubeconform: not found (--kubeconform PATH, or on PATH): the comparison is left out")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mixed, heavy, cache = work / "mixed", work / "heavy", work / "cache"
        count = generate(mixed, options.resources)
        heavy_count = generate_heavy(heavy, options.heavy)
        for title, tree, total in (("mixed set", mixed, count), ("CEL-heavy set", heavy, heavy_count)):
            runners = {
                "clusterforge validate, CEL on": validate_runner(tree, cache, locations, options.jobs),
                "clusterforge validate --skip-cel": validate_runner(
                    tree, cache, locations, options.jobs, ("--skip-cel",)
                ),
            }
            if options.baseline is not None and tree == mixed:
                runners["baseline checkout, validate"] = validate_runner(
                    tree, cache, locations, options.jobs, baseline=options.baseline
                )
            if options.kubeconform:
                runners[kubeconform] = kubeconform_runner(options.kubeconform, tree, cache, locations, workers)
            times = measure(title, tree, total, runners, options.runs)
            _ratio(times, "clusterforge validate, CEL on", kubeconform)
            _ratio(times, "clusterforge validate, CEL on", "clusterforge validate --skip-cel")
            _ratio(times, "clusterforge validate --skip-cel", "baseline checkout, validate")
        if options.parsers:
            print("YAML parsing alone, one process (how fast this machine is right now, and the parsers compared):")
            for name, note in PARSER_NOTES.items():
                seconds = parse_time(mixed, name)
                shown = f"{seconds * 1000:6.0f} ms" if seconds is not None else "   not installed"
                print(f"  {name:15s}{shown}   {note}")


if __name__ == "__main__":
    main()
