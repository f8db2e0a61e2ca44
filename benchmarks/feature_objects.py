"""How many Kubernetes objects each platform feature adds to the Flux rendering.

Renders a minimal cluster.yaml, then the same with one feature turned on at a time, and prints
the difference in objects (by kind). Run: python benchmarks/feature_objects.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import MINIMAL, make_repo, run_cli  # noqa: E402
from tests.test_platform import SECRETS  # noqa: E402

HEAD = MINIMAL.split("models:")[0]
MODELS = "models:" + MINIMAL.split("models:")[1]
FEATURES = {
    "exposure (HTTPRoute beside LiteLLM)": "exposure:\n  type: gateway\n  gateway: {name: gw, namespace: network}\n",
    "exposure (route in the gateway namespace)": (
        "exposure:\n  type: gateway\n  gateway: {name: gw, namespace: network, route_in_gateway_namespace: true}\n"
    ),
    "network policies (generic)": "network_policies: {enabled: true}\n",
    "network policies (cilium)": "network_policies: {enabled: true, cni: cilium}\n",
    "observability (ServiceMonitor, rules, dashboard)": (
        "observability:\n  metrics: {service_monitor: {enabled: true}, rules: true}\n  dashboards: {enabled: true}\n"
    ),
    "database PodMonitor": "database: {pod_monitor: true}\n",
    "database backups": (
        "database:\n  backup: {enabled: true, endpoint_url: 'https://s3.example.org', bucket: llm-backups}\n"
    ),
    "autoscaling (HPA)": "litellm:\n  scaling:\n    autoscaling: {enabled: true}\n",
    "SSO (OIDC; env and a secret key, no object)": (
        "exposure:\n  type: gateway\n  gateway: {name: gw, namespace: network}\n"
        "sso:\n  type: oidc\n  oidc: {external_issuer: 'https://auth.example.org/realms/main'}\n"
    ),
}
# features compared with a baseline that already has what they need
BASELINES = {"SSO (OIDC; env and a secret key, no object)": FEATURES["exposure (HTTPRoute beside LiteLLM)"]}


def objects(output: Path) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for path in output.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            # kustomize's own kustomization.yaml files are not objects in the cluster; Flux Kustomizations are
            if isinstance(doc, dict) and "kind" in doc and doc.get("apiVersion") != "kustomize.config.k8s.io/v1beta1":
                kinds[doc["kind"]] += 1
    return kinds


def render(root: Path, extra: str) -> Counter[str]:
    repo = make_repo(root, HEAD + extra + MODELS, SECRETS)
    result = run_cli(repo.root, "configure")
    assert result.exit_code == 0, result.output
    found = objects(repo.output)
    shutil.rmtree(root)  # the script's own scratch repository
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = render(Path(tmp) / "base", "")
        print(f"baseline (defaults): {sum(base.values())} objects")
        for feature, extra in FEATURES.items():
            if feature in BASELINES:
                base = render(Path(tmp) / "base", BASELINES[feature])
            with_it = render(Path(tmp) / "feature", extra)
            added = with_it - base
            total = sum(with_it.values()) - sum(base.values())
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(added.items()))
            print(f"{feature:<48} +{total:<3} {kinds}")


if __name__ == "__main__":
    main()
