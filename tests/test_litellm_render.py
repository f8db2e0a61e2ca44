"""What the LiteLLM features render into: config.yaml entries, the Secret, the Deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import BASE_SECRETS, MINIMAL, Repo, make_repo

HEAD = MINIMAL.split("models:")[0]
APP = "kubernetes/apps/ai-system/litellm/app"


def render(tmp_path: Path, settings: str, **secrets: str) -> Repo:
    repo = make_repo(tmp_path / "r", settings, {**BASE_SECRETS, **secrets})
    result = repo.configure()
    assert result.exit_code == 0, result.output
    return repo


def config_of(repo: Repo) -> dict[str, Any]:
    configmap = yaml.safe_load((repo.output / APP / "configmap.yaml").read_text())
    return dict(yaml.safe_load(configmap["data"]["config.yaml"]))


def container_of(repo: Repo) -> dict[str, Any]:
    deployment = yaml.safe_load((repo.output / APP / "deployment.yaml").read_text())
    return dict(deployment["spec"]["template"]["spec"]["containers"][0])


def pod_of(repo: Repo) -> dict[str, Any]:
    return dict(yaml.safe_load((repo.output / APP / "deployment.yaml").read_text())["spec"]["template"]["spec"])


def test_shared_credentials_become_a_credential_list(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        HEAD + "models:\n"
        "  - {name: gpt-4.1, provider: azure, model: gpt-4.1, credential: azure_us_east}\n"
        "  - {name: o3, provider: azure, model: o3, credential: azure_us_east, rpm: 10}\n"
        "credentials:\n"
        "  - {name: azure_us_east, provider: azure, resource: my-openai-east, api_version: 2025-01-01-preview}\n",
        azure_us_east="azure-key-east-1",
    )
    config = config_of(repo)
    assert config["credential_list"] == [
        {
            "credential_name": "azure_us_east",
            "credential_values": {
                "api_key": "os.environ/AZURE_US_EAST_API_KEY",
                "api_base": "https://my-openai-east.openai.azure.com",
                "api_version": "2025-01-01-preview",
            },
            "credential_info": {},
        }
    ]
    assert config["model_list"][1]["litellm_params"] == {
        "model": "azure/o3",
        "litellm_credential_name": "azure_us_east",
        "rpm": 10,
    }
    secret = yaml.safe_load(repo.decrypt(repo.output / APP / "secret.sops.yaml"))["stringData"]
    assert secret["AZURE_US_EAST_API_KEY"] == "azure-key-east-1"


def test_in_cluster_backend_urls(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        HEAD + "models:\n"
        "  - {name: direct, provider: hosted_vllm, model: m, backend: {namespace: llm, predictor: llama}}\n"
        "  - {name: kv, provider: hosted_vllm, model: m, backend: {namespace: llm, predictor: llama,"
        " inference_gateway: inference-gateway}}\n"
        "  - {name: svc, provider: ollama, model: llama3.2, backend: {namespace: ollama, service: ollama,"
        " port: 11434, path: /}}\n",
    )
    bases = [m["litellm_params"]["api_base"] for m in config_of(repo)["model_list"]]
    assert bases == [
        "http://llama-predictor.llm.svc.cluster.local/v1",
        "http://inference-gateway.llm.svc.cluster.local/v1",
        "http://ollama.ollama.svc.cluster.local:11434",
    ]


def test_vertex_credentials_are_a_mounted_file_not_an_env_var(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        HEAD + "models:\n"
        "  - {name: gemini, provider: vertex_ai, model: gemini-2.5-pro, project: my-project, region: europe-west4,"
        " credential: gcp}\n",
        gcp='{"type": "service_account"}',
    )
    params = config_of(repo)["model_list"][0]["litellm_params"]
    assert params["vertex_credentials"] == "/etc/litellm/credentials/gcp.json"
    assert (params["vertex_project"], params["vertex_location"]) == ("my-project", "europe-west4")
    container = container_of(repo)
    assert "GCP_CREDENTIALS" not in [e["name"] for e in container["env"]]
    assert {"name": "credential-files", "mountPath": "/etc/litellm/credentials", "readOnly": True} in container[
        "volumeMounts"
    ]
    volume = next(v for v in pod_of(repo)["volumes"] if v["name"] == "credential-files")
    assert volume["secret"]["items"] == [{"key": "GCP_CREDENTIALS", "path": "gcp.json"}]


def test_bedrock_keys_or_a_role(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        HEAD + "litellm:\n  service_account_annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::1:role/litellm\n"
        "models:\n"
        "  - {name: by-key, provider: bedrock, model: anthropic.claude-3, region: us-east-1, credential: aws}\n"
        "  - {name: by-role, provider: bedrock, model: anthropic.claude-3, region: eu-west-1}\n",
        aws_access_key_id="AKIATEST",
        aws_secret_access_key="aws-secret-test",
    )
    by_key, by_role = (m["litellm_params"] for m in config_of(repo)["model_list"])
    assert by_key == {
        "model": "bedrock/anthropic.claude-3",
        "aws_access_key_id": "os.environ/AWS_ACCESS_KEY_ID",
        "aws_secret_access_key": "os.environ/AWS_SECRET_ACCESS_KEY",
        "aws_region_name": "us-east-1",
    }
    assert by_role == {"model": "bedrock/anthropic.claude-3", "aws_region_name": "eu-west-1"}
    account = yaml.safe_load((repo.output / APP / "serviceaccount.yaml").read_text())
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/litellm"}


def test_trimming_guardrail_is_shipped_mounted_and_enabled_per_model(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        HEAD + "models:\n"
        "  - {name: gpt-4o, provider: openai, model: gpt-4o, credential: openai}\n"
        "  - {name: small, provider: openai, model: gpt-4o-mini, credential: openai, max_input_tokens: 8000,"
        " message_trimming: true}\n",
    )
    config = config_of(repo)
    assert "guardrails" not in config["model_list"][0]["litellm_params"]
    assert config["model_list"][1]["litellm_params"]["guardrails"] == ["message-trimming"]
    (guardrail,) = config["guardrails"]
    assert guardrail["litellm_params"]["max_input_tokens"] == {"small": 8000}
    assert guardrail["litellm_params"]["default_on"] is False
    module = guardrail["litellm_params"]["guardrail"].rsplit(".", 2)
    configmap = yaml.safe_load((repo.output / APP / "guardrails-configmap.yaml").read_text())
    assert f"{module[1]}.py" in configmap["data"]
    assert f"class {module[2]}(CustomGuardrail)" in configmap["data"][f"{module[1]}.py"]
    mounts = {m["name"]: m["mountPath"] for m in container_of(repo)["volumeMounts"]}
    assert mounts["guardrails"] == f"/app/{module[0]}"  # beside /app/config.yaml, where LiteLLM imports from


def test_no_guardrail_configmap_without_trimming(repo: Repo) -> None:
    assert repo.configure().exit_code == 0
    assert not (repo.output / APP / "guardrails-configmap.yaml").exists()
    assert "guardrails" not in [v["name"] for v in pod_of(repo)["volumes"]]


def test_gateway_settings_reach_the_config(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        HEAD + "litellm:\n"
        "  general_settings:\n"
        "    disable_spend_logs: true\n    store_prompts_in_spend_logs: true\n"
        "    maximum_spend_logs_retention_period: 90d\n    maximum_spend_logs_retention_interval: 12h\n"
        "    allow_requests_on_db_unavailable: false\n"
        "  litellm_settings:\n    json_logs: false\n    cache_params: {mode: default_on, ttl: 60, namespace: gw}\n"
        "  router_settings:\n    routing_strategy: usage-based-routing-v2\n    allowed_fails: 3\n"
        "    cooldown_time: 30\n    model_group_alias: {gpt-4: gpt-4o, secret: {model: gpt-4o, hidden: true}}\n"
        "models:\n  - {name: gpt-4o, provider: openai, model: gpt-4o, credential: openai}\n",
    )
    config = config_of(repo)
    general = config["general_settings"]
    assert (general["disable_spend_logs"], general["store_prompts_in_spend_logs"]) == (True, True)
    assert general["maximum_spend_logs_retention_period"] == "90d"
    assert general["maximum_spend_logs_retention_interval"] == "12h"
    assert general["allow_requests_on_db_unavailable"] is False
    assert config["litellm_settings"]["json_logs"] is False
    assert {k: config["litellm_settings"]["cache_params"][k] for k in ("mode", "ttl", "namespace")} == {
        "mode": "default_on",
        "ttl": 60,
        "namespace": "gw",
    }
    router = config["router_settings"]
    assert (router["routing_strategy"], router["allowed_fails"], router["cooldown_time"]) == (
        "usage-based-routing-v2",
        3,
        30.0,
    )
    assert router["model_group_alias"] == {"gpt-4": "gpt-4o", "secret": {"model": "gpt-4o", "hidden": True}}


def test_health_check_warning_is_printed_and_does_not_stop_configure(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        HEAD
        + "litellm:\n  general_settings:\n    background_health_checks: true\n"
        + "models:"
        + MINIMAL.split("models:")[1],
    )
    result = repo.configure()
    assert result.exit_code == 0
    assert (
        "cluster.yaml:8:31: litellm.general_settings.background_health_checks: warning: background health checks "
        "with database_connection_pool_limit 10 exhausted the Prisma pool"
    ) in result.stderr
