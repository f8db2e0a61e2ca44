"""What surrounds the proxy: each setting's objects and fields, and the settings that are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import BASE_SECRETS, MINIMAL, Repo, make_repo, run_cli

HEAD = MINIMAL.split("models:")[0]
MODELS = "models:" + MINIMAL.split("models:")[1]
APPS = "kubernetes/apps"
LITELLM = f"{APPS}/ai-system/litellm/app"
SECRETS = {
    **BASE_SECRETS,
    "oidc_client_secret": "oidc-secret-test-1",
    "langfuse_public_key": "pk-lf-test",
    "langfuse_secret_key": "sk-lf-test",
    "backup_access_key_id": "AKIABACKUPTEST",
    "backup_secret_access_key": "backup-secret-test",
    "cache_admin_password": "cache-admin-test-1",
    "anthropic": "sk-ant-platform-test",
    "aws_access_key_id": "AKIATEST",
    "aws_secret_access_key": "aws-secret-test",
}


def render(tmp_path: Path, extra: str, models: str = MODELS) -> Repo:
    repo = make_repo(tmp_path / "r", HEAD + extra + models, SECRETS)
    result = repo.configure()
    assert result.exit_code == 0, result.output
    return repo


def docs(repo: Repo, path: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((repo.output / path).read_text()) if d]


def doc(repo: Repo, path: str) -> dict[str, Any]:
    (only,) = docs(repo, path)
    return only


def refused(tmp_path: Path, extra: str, models: str = MODELS) -> str:
    repo = make_repo(tmp_path / "r", HEAD + extra + models, SECRETS)
    result = repo.configure()
    assert result.exit_code == 2, result.output
    return str(result.stderr)


# ---------------------------------------------------------------- exposure


def test_httproute_beside_litellm_keeps_metrics_inside(tmp_path: Path) -> None:
    repo = render(tmp_path, "exposure:\n  type: gateway\n  gateway: {name: envoy-external, namespace: network}\n")
    route = doc(repo, f"{LITELLM}/httproute.yaml")
    assert route["metadata"]["namespace"] == "ai-system"
    assert route["spec"]["hostnames"] == ["litellm.example.org"]
    assert route["spec"]["parentRefs"][0] | {"namespace": "network"} == route["spec"]["parentRefs"][0]
    metrics_rule, main_rule = route["spec"]["rules"]
    assert metrics_rule == {"matches": [{"path": {"type": "PathPrefix", "value": "/metrics"}}]}
    assert main_rule["backendRefs"] == [{"group": "", "kind": "Service", "name": "litellm", "port": 4000}]
    assert not (repo.output / f"{LITELLM}/referencegrant.yaml").exists()


def test_route_in_the_gateway_namespace_gets_a_reference_grant(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        "exposure:\n  type: gateway\n  hostname: llm.example.org\n  path_prefix: /llm\n"
        "  gateway: {name: envoy-external, namespace: network, section_name: https,\n"
        "            route_in_gateway_namespace: true}\n",
    )
    route = doc(repo, f"{APPS}/network/litellm-route/app/httproute.yaml")
    assert route["metadata"]["namespace"] == "network"
    metrics_rule, main_rule = route["spec"]["rules"]
    assert metrics_rule["matches"][0]["path"]["value"] == "/llm/metrics"
    assert main_rule["backendRefs"][0]["namespace"] == "ai-system"
    assert main_rule["filters"][0]["urlRewrite"]["path"] == {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}
    grant = doc(repo, f"{LITELLM}/referencegrant.yaml")
    assert grant["metadata"]["namespace"] == "ai-system"
    assert grant["spec"] == {
        "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "network"}],
        "to": [{"group": "", "kind": "Service", "name": "litellm"}],
    }
    # the gateway's namespace belongs to another stack: no Namespace object for it
    assert not (repo.output / f"{APPS}/network/namespace.yaml").exists()
    env = {
        e["name"]: e.get("value")
        for e in doc(repo, f"{LITELLM}/deployment.yaml")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["PROXY_BASE_URL"] == "https://llm.example.org/llm"


def test_ingress_needs_metrics_behind_the_key(tmp_path: Path) -> None:
    exposure = "exposure:\n  type: ingress\n  ingress: {class_name: traefik, tls_secret: litellm-tls}\n"
    assert "an Ingress cannot keep /metrics inside the cluster" in refused(tmp_path / "a", exposure)
    repo = render(
        tmp_path / "b", exposure + "observability:\n  metrics: {require_auth: true, service_monitor: {enabled: true}}\n"
    )
    ingress = doc(repo, f"{LITELLM}/ingress.yaml")
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["spec"]["tls"] == [{"hosts": ["litellm.example.org"], "secretName": "litellm-tls"}]
    monitor = doc(repo, f"{LITELLM}/servicemonitor.yaml")
    assert monitor["spec"]["endpoints"][0]["authorization"]["credentials"] == {
        "name": "litellm-metrics-auth",
        "key": "token",
    }
    token = yaml.safe_load(repo.decrypt(repo.output / f"{LITELLM}/metrics-auth-secret.sops.yaml"))
    assert token["stringData"] == {"token": BASE_SECRETS["litellm_master_key"]}


# ---------------------------------------------------------------- network policies


def policies(repo: Repo, path: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs(repo, path)}


def test_generic_network_policies(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        "exposure:\n  type: gateway\n  gateway: {name: gw, namespace: network}\n"
        "network_policies: {enabled: true, cni: generic}\n",
        MODELS + "  - {name: llama, provider: hosted_vllm, model: m, backend: {namespace: llm, predictor: llama}}\n",
    )
    litellm = policies(repo, f"{LITELLM}/networkpolicies.yaml")
    assert litellm["default-deny"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [],
        "egress": [],
    }
    assert litellm["allow-dns"]["spec"]["egress"][0]["ports"] == [
        {"protocol": "UDP", "port": 53},
        {"protocol": "TCP", "port": 53},
    ]
    proxy = litellm["litellm"]["spec"]
    assert proxy["ingress"] == [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "network"}}}],
            "ports": [{"protocol": "TCP", "port": 4000}],
        },
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "ports": [{"protocol": "TCP", "port": 4000}],
        },
    ]
    egress = proxy["egress"]
    assert {
        "to": [{"podSelector": {"matchLabels": {"cnpg.io/poolerName": "litellm-db-pooler-rw"}}}],
        "ports": [{"protocol": "TCP", "port": 5432}],
    } in egress
    assert {
        "to": [
            {
                "podSelector": {
                    "matchLabels": {"app.kubernetes.io/name": "litellm-cache", "app.kubernetes.io/component": "cache"}
                }
            }
        ],
        "ports": [{"protocol": "TCP", "port": 6379}],
    } in egress
    assert {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "llm"}}}],
        "ports": [{"protocol": "TCP", "port": 80}],
    } in egress
    internet = next(r for r in egress if "ipBlock" in r["to"][0])
    assert internet["ports"] == [{"protocol": "TCP", "port": 443}]
    assert "10.0.0.0/8" in internet["to"][0]["ipBlock"]["except"]
    db = policies(repo, f"{APPS}/ai-system/litellm-db/app/networkpolicies.yaml")
    instance_clients = db["litellm-db"]["spec"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": {"cnpg.io/poolerName": "litellm-db-pooler-rw"}}} in instance_clients
    assert db["litellm-db-pooler-rw"]["spec"]["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "litellm", "app.kubernetes.io/component": "proxy"}}}
    ]
    cache = policies(repo, f"{APPS}/ai-system/litellm-cache/app/networkpolicies.yaml")["litellm-cache"]["spec"]
    assert cache["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "litellm", "app.kubernetes.io/component": "proxy"}}}
    ]
    migrate = policies(repo, f"{APPS}/ai-system/litellm-migrate/app/networkpolicies.yaml")["litellm-migrate"]["spec"]
    assert migrate["egress"] == [
        {
            "to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "litellm-db"}}}],
            "ports": [{"protocol": "TCP", "port": 5432}],
        }
    ]


def test_cilium_egress_by_provider_name(tmp_path: Path) -> None:
    models = (
        MODELS
        + "  - {name: claude, provider: anthropic, model: claude-sonnet-4-5, credential: anthropic}\n"
        + "  - {name: gpt-4.1, provider: azure, model: gpt-4.1, credential: openai, resource: my-east,\n"
        + "     api_version: v1}\n"
        + "  - {name: titan, provider: bedrock, model: amazon.titan, region: eu-west-1, credential: aws}\n"
    )
    repo = render(tmp_path, "network_policies: {enabled: true, cni: cilium}\n", models)
    found = policies(repo, f"{LITELLM}/networkpolicies.yaml")
    fqdns = found["litellm-providers"]["spec"]["egress"][1]["toFQDNs"]
    assert fqdns == [
        {"matchName": "api.anthropic.com"},
        {"matchName": "api.openai.com"},
        {"matchName": "bedrock-runtime.eu-west-1.amazonaws.com"},
        {"matchName": "my-east.openai.azure.com"},
        {"matchName": "sts.eu-west-1.amazonaws.com"},
    ]
    assert found["litellm-providers"]["spec"]["egress"][0]["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}
    assert not any("ipBlock" in r["to"][0] for r in found["litellm"]["spec"]["egress"] if r.get("to"))


# ---------------------------------------------------------------- observability and SSO


def test_observability(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        "observability:\n"
        "  metrics: {service_monitor: {enabled: true, labels: {release: prom}}, rules: true}\n"
        "  dashboards: {enabled: true, folder: AI}\n"
        "  tracing: {endpoint: 'http://tempo.monitoring.svc.cluster.local:4317'}\n"
        "  langfuse: {host: 'https://langfuse.example.org'}\n",
    )
    config = yaml.safe_load(doc(repo, f"{LITELLM}/configmap.yaml")["data"]["config.yaml"])
    assert config["litellm_settings"]["callbacks"] == ["prometheus", "otel", "langfuse"]
    assert config["litellm_settings"]["service_callback"] == ["prometheus_system"]
    assert config["litellm_settings"]["require_auth_for_metrics_endpoint"] is False
    monitor = doc(repo, f"{LITELLM}/servicemonitor.yaml")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["selector"]["matchLabels"] == doc(repo, f"{LITELLM}/service.yaml")["spec"]["selector"]
    rules = doc(repo, f"{LITELLM}/prometheusrule.yaml")["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == [
        "LiteLLMProxyDown",
        "LiteLLMHighErrorRate",
        "LiteLLMHighLatencyP95",
        "LiteLLMDatabaseDown",
        "LiteLLMCacheDown",
    ]
    dashboard = doc(repo, f"{LITELLM}/dashboard-configmap.yaml")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["annotations"] == {"grafana_folder": "AI"}
    assert json.loads(dashboard["data"]["litellm.json"])["uid"] == "clusterforge-litellm"
    env = {
        e["name"]: e
        for e in doc(repo, f"{LITELLM}/deployment.yaml")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["OTEL_EXPORTER"]["value"] == "otlp_grpc"
    assert env["OTEL_ENDPOINT"]["value"] == "http://tempo.monitoring.svc.cluster.local:4317"
    assert env["LANGFUSE_HOST"]["value"] == "https://langfuse.example.org"
    assert env["LANGFUSE_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "LANGFUSE_SECRET_KEY"


def test_oidc_split_horizon(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        "exposure:\n  type: gateway\n  gateway: {name: gw, namespace: network}\n"
        "sso:\n  type: oidc\n  oidc:\n    external_issuer: https://auth.example.org/realms/main\n"
        "    internal_issuer: http://keycloak.identity.svc.cluster.local:8080/realms/main\n",
    )
    env = {
        e["name"]: e
        for e in doc(repo, f"{LITELLM}/deployment.yaml")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert (
        env["GENERIC_AUTHORIZATION_ENDPOINT"]["value"]
        == "https://auth.example.org/realms/main/protocol/openid-connect/auth"
    )
    assert (
        env["GENERIC_TOKEN_ENDPOINT"]["value"]
        == "http://keycloak.identity.svc.cluster.local:8080/realms/main/protocol/openid-connect/token"
    )
    assert env["GENERIC_USERINFO_ENDPOINT"]["value"].startswith("http://keycloak.identity.svc.cluster.local:8080/")
    assert env["GENERIC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]["key"] == "GENERIC_CLIENT_SECRET"
    assert env["UI_USERNAME"]["value"] == "admin"
    secret = yaml.safe_load(repo.decrypt(repo.output / f"{LITELLM}/secret.sops.yaml"))["stringData"]
    assert secret["GENERIC_CLIENT_SECRET"] == "oidc-secret-test-1"
    assert secret["UI_PASSWORD"] == BASE_SECRETS["ui_password"]


def test_oidc_needs_exposure(tmp_path: Path) -> None:
    assert "single sign-on redirects browsers back to LiteLLM" in refused(
        tmp_path, "sso:\n  type: oidc\n  oidc: {external_issuer: 'https://auth.example.org/realms/main'}\n"
    )


# ---------------------------------------------------------------- database


def test_pooler_urls_and_migration(tmp_path: Path) -> None:
    repo = render(
        tmp_path, "database:\n  instances: 3\n  pooler: {instances: 2, max_client_conn: 500, default_pool_size: 20}\n"
    )
    db = f"{APPS}/ai-system/litellm-db/app"
    pooler = doc(repo, f"{db}/pooler.yaml")
    assert pooler["spec"]["pgbouncer"] == {
        "poolMode": "transaction",
        "parameters": {"max_client_conn": "500", "default_pool_size": "20"},
    }
    assert doc(repo, f"{db}/cluster.yaml")["spec"]["affinity"]["enablePodAntiAffinity"] is True
    secret = yaml.safe_load(repo.decrypt(repo.output / f"{LITELLM}/secret.sops.yaml"))["stringData"]
    assert secret["DATABASE_URL"].endswith(
        "@litellm-db-pooler-rw.ai-system.svc.cluster.local:5432/litellm?pgbouncer=true"
    )
    migrate = f"{APPS}/ai-system/litellm-migrate/app"
    direct = yaml.safe_load(repo.decrypt(repo.output / f"{migrate}/migrate-secret.sops.yaml"))["stringData"]
    assert direct["DATABASE_URL"].endswith("@litellm-db-rw.ai-system.svc.cluster.local:5432/litellm")
    job = doc(repo, f"{migrate}/job.yaml")
    assert job["metadata"]["name"].startswith("litellm-migrate-")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "litellm/proxy/prisma_migration.py",
    ]
    ks = doc(repo, f"{APPS}/ai-system/litellm/ks.yaml")
    assert {"name": "litellm-migrate"} in ks["spec"]["dependsOn"]
    proxy_env = {
        e["name"]: e.get("value")
        for e in doc(repo, f"{LITELLM}/deployment.yaml")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert proxy_env["DISABLE_SCHEMA_UPDATE"] == "true"


def test_migration_job_name_follows_the_image(tmp_path: Path) -> None:
    one = render(tmp_path / "a", "")
    two = render(tmp_path / "b", "litellm:\n  image: {tag: main-v1.99.0-stable}\n")
    path = f"{APPS}/ai-system/litellm-migrate/app/job.yaml"
    assert doc(one, path)["metadata"]["name"] != doc(two, path)["metadata"]["name"]


def test_backups_and_the_bucket_policy(tmp_path: Path) -> None:
    backup = (
        "database:\n  pod_monitor: true\n"
        "  backup: {enabled: true, endpoint_url: 'https://s3.example.org', bucket: llm-backups, path: prod}\n"
        "observability:\n  metrics: {enabled: true}\n"
    )
    repo = render(tmp_path, backup)
    db = f"{APPS}/ai-system/litellm-db/app"
    store = doc(repo, f"{db}/objectstore.yaml")
    assert store["spec"]["configuration"]["destinationPath"] == "s3://llm-backups/prod"
    assert store["spec"]["configuration"]["wal"] == {"compression": "gzip"}
    assert doc(repo, f"{db}/cluster.yaml")["spec"]["plugins"] == [
        {
            "name": "barman-cloud.cloudnative-pg.io",
            "isWALArchiver": True,
            "parameters": {"barmanObjectName": "litellm-db-backup"},
        }
    ]
    assert doc(repo, f"{db}/scheduledbackup.yaml")["spec"]["method"] == "plugin"
    assert doc(repo, f"{db}/podmonitor.yaml")["spec"]["podMetricsEndpoints"] == [{"port": "metrics"}]
    assert (repo.output / f"{APPS}/cnpg-system/plugin-barman-cloud/app/helmrelease.yaml").is_file()
    policy = json.loads((repo.output / "docs/backup-bucket-policy.json").read_text())
    assert policy["Statement"][1]["Resource"] == ["arn:aws:s3:::llm-backups/prod/*"]
    creds = yaml.safe_load(repo.decrypt(repo.output / f"{db}/backup-secret.sops.yaml"))["stringData"]
    assert creds == {"ACCESS_KEY_ID": "AKIABACKUPTEST", "ACCESS_SECRET_KEY": "backup-secret-test"}
    # the policy file is generated: turning backups off removes it
    repo.config.write_text(HEAD + MODELS)
    assert repo.configure().exit_code == 0
    assert not (repo.output / "docs").exists()


def test_backups_are_refused_without_credentials(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        HEAD
        + "database:\n  backup: {enabled: true, endpoint_url: 'https://s3.example.org', bucket: llm-backups}\n"
        + MODELS,
    )
    result = repo.configure()
    assert result.exit_code == 2
    assert "secret 'backup_access_key_id' (the S3 credentials of the database backups) is missing" in result.stderr


def test_external_database_keeps_working(tmp_path: Path) -> None:
    repo = render(tmp_path, "database: {type: external, host: pg.example.org, sslmode: require}\n")
    assert not (repo.output / f"{APPS}/ai-system/litellm-db").exists()
    secret = yaml.safe_load(repo.decrypt(repo.output / f"{LITELLM}/secret.sops.yaml"))["stringData"]
    assert (
        secret["DATABASE_URL"]
        == f"postgresql://litellm:{BASE_SECRETS['database_password']}@pg.example.org:5432/litellm?sslmode=require"
    )


# ---------------------------------------------------------------- cache


def test_shared_dragonfly_with_acl(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        "litellm:\n  litellm_settings: {cache_params: {namespace: litellm}}\n"
        "cache: {type: dragonfly, namespace: cache, acl: true}\n",
    )
    dragonfly = doc(repo, f"{APPS}/cache/litellm-cache/app/dragonfly.yaml")
    assert dragonfly["metadata"]["namespace"] == "cache"
    assert dragonfly["spec"]["aclFromSecret"] == {"name": "litellm-cache-auth", "key": "acl"}
    acl = yaml.safe_load(repo.decrypt(repo.output / f"{APPS}/cache/litellm-cache/app/secret.sops.yaml"))["stringData"][
        "acl"
    ]
    assert f"user litellm on >{BASE_SECRETS['cache_password']} ~litellm:* &litellm:* +@all" in acl
    config = yaml.safe_load(doc(repo, f"{LITELLM}/configmap.yaml")["data"]["config.yaml"])
    assert config["litellm_settings"]["cache_params"]["host"] == "litellm-cache.cache.svc.cluster.local"
    assert config["litellm_settings"]["cache_params"]["username"] == "litellm"


def test_acl_needs_the_litellm_key_prefix(tmp_path: Path) -> None:
    assert "the cache ACL allows litellm:* keys only; 'litellm.caching' would be refused" in refused(
        tmp_path, "cache: {type: dragonfly, acl: true}\n"
    )


# ---------------------------------------------------------------- scaling


def test_autoscaling_pdb_spread_and_health_port(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        "litellm:\n  scaling:\n"
        "    autoscaling: {enabled: true, min_replicas: 3, max_replicas: 6, target_cpu: 70, target_memory: 80}\n"
        "    pdb_min_available: 2\n    termination_grace_period_seconds: 120\n    separate_health_port: 8001\n",
    )
    hpa = doc(repo, f"{LITELLM}/hpa.yaml")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 6)
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu", "memory"]
    deployment = doc(repo, f"{LITELLM}/deployment.yaml")
    assert "replicas" not in deployment["spec"]  # the HPA owns it
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 120
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["port"] == "health"
    assert {"name": "health", "containerPort": 8001, "protocol": "TCP"} in container["ports"]
    assert {"name": "SEPARATE_HEALTH_PORT", "value": "8001"} in container["env"]
    assert doc(repo, f"{LITELLM}/pdb.yaml")["spec"]["minAvailable"] == 2


def test_pool_size_rule_shows_the_numbers(tmp_path: Path) -> None:
    message = refused(
        tmp_path,
        "litellm:\n  workers: 4\n  scaling:\n    autoscaling: {enabled: true, max_replicas: 20}\n"
        "database:\n  pooler: {max_client_conn: 500}\n",
    )
    assert message == (
        "cluster.yaml:6:1: litellm.general_settings.database_connection_pool_limit: database connections: "
        "pool limit 10 x 4 worker(s) x 20 max replica(s) = 800 exceeds the pooler's max_client_conn 500; "
        "lower the pool limit, workers or replicas, or raise database.pooler.max_client_conn\n"
    )


def test_pdb_that_blocks_every_drain_is_refused(tmp_path: Path) -> None:
    assert "with 2 replicas a budget of 2 blocks every drain" in refused(
        tmp_path, "litellm:\n  replicas: 2\n  scaling: {pdb_min_available: 2}\n"
    )


def test_production_example_renders() -> None:
    root = Path(__file__).resolve().parents[1]
    result = run_cli(root, "configure", "--config", "examples/production.yaml", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run, nothing written" in result.output


@pytest.mark.parametrize("case", ["network", "observability"])
def test_defaults_add_nothing_that_needs_extra_crds(tmp_path: Path, case: str) -> None:
    repo = render(tmp_path, "")
    kinds = {
        d["kind"] for p in repo.output.rglob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d and "kind" in d
    }
    unwanted = {
        "network": {"NetworkPolicy", "CiliumNetworkPolicy"},
        "observability": {"ServiceMonitor", "PrometheusRule", "PodMonitor"},
    }
    assert not kinds & unwanted[case]


def test_production_example_validates_clean(tmp_path: Path) -> None:
    """Rendered where its Flux paths say (output/ of a repository), it passes `validate --strict`."""
    root = Path(__file__).resolve().parents[1]
    rendered = run_cli(root, "configure", "--config", "examples/production.yaml", "--output", str(tmp_path / "output"))
    assert rendered.exit_code == 0, rendered.output
    assert "no schema checked" not in rendered.output  # every CRD kind it renders is bundled
    result = run_cli(root, "validate", str(tmp_path / "output"), "--repo-root", str(tmp_path), "--strict")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("0 errors, 0 warnings")
    assert "not checked" not in result.output
