"""Proof with the real thing: the LiteLLM proxy (PyPI litellm[proxy]) runs the config clusterforge
renders, with the env the Deployment gives it, a real Redis, and a fake OpenAI-compatible upstream.

Needs a `litellm` executable (CLUSTERFORGE_LITELLM_BIN, else on PATH) and `redis-server`.
CI installs both and sets CLUSTERFORGE_REQUIRE_PROXY=1, which turns a missing one into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from tests.conftest import Repo, make_repo

MASTER_KEY = "sk-proxy-test-master-0123456789abcdef"
UPSTREAM_KEY = "sk-upstream-test-key-4242"
REDIS_PASSWORD = "redis-test-password-77"


def _program(env: str, name: str) -> str | None:
    return os.environ.get(env) or shutil.which(name)


LITELLM = _program("CLUSTERFORGE_LITELLM_BIN", "litellm")
REDIS = shutil.which("redis-server")
if not (LITELLM and REDIS):
    if os.environ.get("CLUSTERFORGE_REQUIRE_PROXY") == "1":
        raise RuntimeError(f"the proxy test needs litellm ({LITELLM}) and redis-server ({REDIS})")
    pytest.skip("litellm[proxy] or redis-server is not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Upstream:
    """An OpenAI-compatible server: /ok answers, /fail returns 500; every call is recorded."""

    port: int
    calls: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)


def start_upstream() -> tuple[Upstream, ThreadingHTTPServer]:
    upstream = Upstream(0)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            upstream.calls.append((self.path, self.headers.get("Authorization"), body))
            if self.path.startswith("/fail/"):
                payload = b'{"error": {"message": "upstream exploded", "type": "server_error"}}'
                self.send_response(500)
            else:
                answer = f"upstream answer {len(upstream.calls)}"
                payload = json.dumps(
                    {
                        "id": f"chatcmpl-{len(upstream.calls)}",
                        "object": "chat.completion",
                        "created": 1,
                        "model": body.get("model"),
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
                    }
                ).encode()
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    upstream.port = int(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return upstream, server


def wait_for(url: str, seconds: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise TimeoutError(url)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def settings(upstream: int, redis: int) -> str:
    base = f"http://127.0.0.1:{upstream}"
    return f"""\
cluster: {{name: proof, domain: example.org}}
gitops: {{repository: https://example.org/proof.git}}
litellm:
  litellm_settings: {{num_retries: 0}}
  router_settings:
    num_retries: 0
    fallbacks: {{flaky: [chat]}}
models:
  - {{name: chat, provider: openai, model: gpt-4o-mini, credential: openai, api_base: "{base}/ok/v1"}}
  - {{name: flaky, provider: openai, model: gpt-4o, credential: openai, api_base: "{base}/fail/v1"}}
  - name: trimmed
    provider: openai
    model: small-context
    credential: openai
    api_base: "{base}/ok/v1"
    max_input_tokens: 200
    message_trimming: true
database: {{type: external, host: 127.0.0.1}}
cache: {{type: external, host: 127.0.0.1, port: {redis}}}
"""


def deployment_env(repo: Repo) -> dict[str, str]:
    """The env of the rendered Deployment, secret values decrypted as Flux would."""
    app = repo.output / "kubernetes/apps/ai-system/litellm/app"
    deployment = yaml.safe_load((app / "deployment.yaml").read_text())
    secret = yaml.safe_load(repo.decrypt(app / "secret.sops.yaml"))["stringData"]
    env: dict[str, str] = {}
    for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "litellm-secret"
            env[item["name"]] = secret[ref["key"]]
    return env


@dataclass
class Proof:
    url: str
    upstream: Upstream
    env: dict[str, str]
    repo: Repo


@pytest.fixture(scope="module")
def proof(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proof]:
    root = tmp_path_factory.mktemp("proof")
    upstream, server = start_upstream()
    redis_port = free_port()
    redis = subprocess.Popen(
        [
            str(REDIS),
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            REDIS_PASSWORD,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy: subprocess.Popen[bytes] | None = None
    try:
        repo = make_repo(
            root / "repo",
            settings(upstream.port, redis_port),
            {
                "litellm_master_key": MASTER_KEY,
                "litellm_salt_key": "salt-" * 8,
                "database_password": "unused-here",
                "cache_password": REDIS_PASSWORD,
                "openai": UPSTREAM_KEY,
                "ui_password": "ui-proof-password",
            },
        )
        result = repo.configure()
        assert result.exit_code == 0, result.output
        app_dir = repo.output / "kubernetes/apps/ai-system/litellm/app"
        # lay the ConfigMaps out as the Deployment mounts them: /app/config.yaml, /app/custom_guardrails/
        pod = root / "pod"
        (pod / "custom_guardrails").mkdir(parents=True)
        config = yaml.safe_load((app_dir / "configmap.yaml").read_text())["data"]["config.yaml"]
        (pod / "config.yaml").write_text(config)
        for name, text in yaml.safe_load((app_dir / "guardrails-configmap.yaml").read_text())["data"].items():
            (pod / "custom_guardrails" / name).write_text(text)
        env = deployment_env(repo)
        # litellm[proxy] from PyPI has no Prisma: DATABASE_URL would make it refuse to start.
        # Everything else is exactly what the Deployment sets.
        env.pop("DATABASE_URL")
        port = free_port()
        log = (root / "proxy.log").open("wb")
        proxy = subprocess.Popen(
            [str(LITELLM), "--config", str(pod / "config.yaml"), "--port", str(port), "--host", "127.0.0.1"],
            cwd=pod,
            env={"PATH": os.environ["PATH"], "HOME": str(root), "LITELLM_LOCAL_MODEL_COST_MAP": "True", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/health/liveliness", 90, proxy)
        yield Proof(url, upstream, env, repo)
    finally:
        if proxy is not None:
            stop(proxy)
        stop(redis)
        server.shutdown()


def call(proof: Proof, path: str, body: dict[str, Any] | None = None, key: str | None = MASTER_KEY) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(proof.url + path, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw.startswith((b"{", b"[", b'"')) else raw
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def chat(proof: Proof, model: str, text: str, **extra: Any) -> tuple[int, Any]:
    return call(
        proof, "/v1/chat/completions", {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    )


def test_health_endpoints_answer_as_the_probes_expect(proof: Proof) -> None:
    deployment = yaml.safe_load(
        (proof.repo.output / "kubernetes/apps/ai-system/litellm/app/deployment.yaml").read_text()
    )
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        path = container[probe]["httpGet"]["path"]
        status, _ = call(proof, path, key=None)
        assert status == 200, (probe, path)


def test_chat_goes_upstream_with_the_provider_key(proof: Proof) -> None:
    before = len(proof.upstream.calls)
    status, body = chat(proof, "chat", "hello")
    assert status == 200, body
    path, auth, sent = proof.upstream.calls[before]
    assert path == "/ok/v1/chat/completions"
    assert auth == f"Bearer {UPSTREAM_KEY}"
    assert sent["model"] == "gpt-4o-mini"
    assert body["choices"][0]["message"]["content"] == f"upstream answer {before + 1}"


def test_a_request_without_the_key_is_refused(proof: Proof) -> None:
    before = len(proof.upstream.calls)
    status, _ = call(
        proof, "/v1/chat/completions", {"model": "chat", "messages": [{"role": "user", "content": "x"}]}, key=None
    )
    assert status >= 400
    assert len(proof.upstream.calls) == before


def test_cache_opt_in_answers_the_second_request_from_redis(proof: Proof) -> None:
    before = len(proof.upstream.calls)
    first_status, first = chat(proof, "chat", "the same question", cache={"use-cache": True})
    second_status, second = chat(proof, "chat", "the same question", cache={"use-cache": True})
    assert (first_status, second_status) == (200, 200)
    assert len(proof.upstream.calls) == before + 1, "the second answer must come from the cache"
    assert second["choices"][0]["message"]["content"] == first["choices"][0]["message"]["content"]
    keys = subprocess.run(
        [
            "redis-cli",
            "-p",
            str(proof.env["REDIS_PORT"]),
            "--no-auth-warning",
            "-a",
            REDIS_PASSWORD,
            "--scan",
            "--pattern",
            "litellm.caching*",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert keys, "the cached answer is in Redis under the configured namespace"


def test_fallback_answers_when_the_first_upstream_fails(proof: Proof) -> None:
    before = len(proof.upstream.calls)
    status, body = chat(proof, "flaky", "please answer")
    assert status == 200, body
    paths = [c[0] for c in proof.upstream.calls[before:]]
    assert paths == ["/fail/v1/chat/completions", "/ok/v1/chat/completions"]
    assert body["choices"][0]["message"]["content"] == f"upstream answer {before + 2}"


def test_message_trimming_guardrail_trims_what_reaches_upstream(proof: Proof) -> None:
    before = len(proof.upstream.calls)
    messages = [{"role": "system", "content": "be brief"}]
    messages += [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{'word ' * 40}{i}"} for i in range(20)]
    status, body = call(proof, "/v1/chat/completions", {"model": "trimmed", "messages": messages})
    assert status == 200, body
    sent = proof.upstream.calls[before][2]["messages"]
    assert 1 <= len(sent) < len(messages)
    assert sent[-1]["content"] == messages[-1]["content"], "the newest message is kept"
    # and a model without the guardrail gets everything
    status, _ = call(proof, "/v1/chat/completions", {"model": "chat", "messages": messages})
    assert status == 200
    assert len(proof.upstream.calls[-1][2]["messages"]) == len(messages)


def test_keys_command_reports_the_missing_database(proof: Proof) -> None:
    result = proof.repo.cli("keys", "generate", "--url", proof.url, "--team", "engineering", "--max-budget", "100")
    assert result.exit_code == 3
    assert "POST " + proof.url + "/key/generate: the proxy answered 500" in result.stderr
    assert "virtual keys need the proxy's database" in result.stderr
    assert MASTER_KEY not in result.output


def test_metrics_carry_every_name_the_alerts_and_dashboard_use(proof: Proof) -> None:
    """Runs last: the requests above have been counted. /metrics needs no key (as configured) and is
    where Prometheus reads the series the PrometheusRule and the dashboard query."""
    from generator.apps import monitoring

    # one request that fails for good, so the failure counter exists too
    failed, _ = chat(proof, "flaky", "no fallback this time", disable_fallbacks=True)
    assert failed >= 500
    status, body = call(proof, "/metrics", key=None)
    assert status == 200
    text = body.decode() if isinstance(body, bytes) else str(body)
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    missing = [name for name in monitoring.LITELLM_METRICS if name not in names]
    assert missing == [], f"not in /metrics: {missing}"
