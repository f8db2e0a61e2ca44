"""Metrics, alerts and a dashboard for LiteLLM: a ServiceMonitor, PrometheusRules and a Grafana
dashboard ConfigMap. The metric names are LiteLLM's own (checked against the real proxy's /metrics)."""

from __future__ import annotations

import json
from typing import Any

from generator.apps.names import CACHE_NAME, DATABASE_CLUSTER, LITELLM
from generator.settings.models import Settings
from generator.stack import Manifest

REQUESTS = "litellm_proxy_total_requests_metric_total"
FAILURES = "litellm_proxy_failed_requests_metric_total"
LATENCY = "litellm_request_total_latency_metric_bucket"
TOKENS = "litellm_total_tokens_metric_total"
SPEND = "litellm_spend_metric_total"
CACHE_HITS = "litellm_cache_hits_metric_total"
CACHE_MISSES = "litellm_cache_misses_metric_total"
DEPLOYMENT_STATE = "litellm_deployment_state"
LITELLM_METRICS = (REQUESTS, FAILURES, LATENCY, TOKENS, SPEND, DEPLOYMENT_STATE)


def alert_rules(settings: Settings, cache_namespace: str) -> list[dict[str, Any]]:
    ns = settings.litellm.namespace
    metrics = settings.observability.metrics
    sel = f'namespace="{ns}"'
    rules: list[dict[str, Any]] = [
        {
            "alert": "LiteLLMProxyDown",
            "expr": f'sum(up{{{sel}, service="{LITELLM}"}}) == 0 or absent(up{{{sel}, service="{LITELLM}"}})',
            "for": "5m",
            "labels": {"severity": "critical"},
            "annotations": {"summary": "No LiteLLM proxy in {{ $labels.namespace }} answers Prometheus."},
        },
        {
            "alert": "LiteLLMHighErrorRate",
            "expr": (
                f"sum(rate({FAILURES}{{{sel}}}[5m])) / clamp_min(sum(rate({REQUESTS}{{{sel}}}[5m])), 1e-9) "
                f"> {metrics.error_rate_threshold:g}"
            ),
            "for": "10m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": f"More than {metrics.error_rate_threshold:.0%} of LiteLLM requests fail."},
        },
        {
            "alert": "LiteLLMHighLatencyP95",
            "expr": (
                f"histogram_quantile(0.95, sum by (le) (rate({LATENCY}{{{sel}}}[5m]))) "
                f"> {metrics.latency_p95_seconds:g}"
            ),
            "for": "10m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": f"LiteLLM's p95 latency is above {metrics.latency_p95_seconds:g}s."},
        },
    ]
    if settings.database.type == "cloudnative-pg":
        up = f'cnpg_collector_up{{{sel}, pod=~"{DATABASE_CLUSTER}-[0-9]+"}}'
        rules.append(
            {
                "alert": "LiteLLMDatabaseDown",
                "expr": f"sum({up}) == 0 or absent({up})",
                "for": "5m",
                "labels": {"severity": "critical"},
                "annotations": {"summary": "No instance of LiteLLM's PostgreSQL cluster is up."},
            }
        )
    if settings.cache.type in ("dragonfly", "valkey"):
        ready = f'kube_pod_status_ready{{namespace="{cache_namespace}", pod=~"{CACHE_NAME}-[0-9]+", condition="true"}}'
        rules.append(
            {
                "alert": "LiteLLMCacheDown",
                "expr": f"sum({ready}) == 0 or absent({ready})",
                "for": "5m",
                "labels": {"severity": "critical"},
                "annotations": {"summary": "LiteLLM's cache has no ready pod (kube-state-metrics)."},
            }
        )
    return rules


def _panel(panel_id: int, title: str, expr: str, legend: str, unit: str, x: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": legend}],
    }


def dashboard(settings: Settings) -> str:
    sel = 'namespace="$namespace"'
    panels = [
        _panel(1, "Requests per second", f"sum(rate({REQUESTS}{{{sel}}}[5m]))", "requests", "reqps", 0, 0),
        _panel(
            2,
            "Failed requests",
            f"sum(rate({FAILURES}{{{sel}}}[5m])) / clamp_min(sum(rate({REQUESTS}{{{sel}}}[5m])), 1e-9)",
            "failure ratio",
            "percentunit",
            12,
            0,
        ),
        _panel(
            3,
            "Latency p50 / p95",
            f"histogram_quantile(0.95, sum by (le) (rate({LATENCY}{{{sel}}}[5m])))",
            "p95",
            "s",
            0,
            8,
        ),
        _panel(
            4,
            "Tokens per second by model",
            f"sum by (model) (rate({TOKENS}{{{sel}}}[5m]))",
            "{{model}}",
            "short",
            12,
            8,
        ),
        _panel(
            5,
            "Spend by model (USD/hour)",
            f"sum by (model) (rate({SPEND}{{{sel}}}[1h])) * 3600",
            "{{model}}",
            "currencyUSD",
            0,
            16,
        ),
        _panel(
            6,
            "Deployment state (0 healthy, 1 partial, 2 down)",
            f"max by (litellm_model_name) ({DEPLOYMENT_STATE}{{{sel}}})",
            "{{litellm_model_name}}",
            "short",
            12,
            16,
        ),
    ]
    panels[2]["targets"].append(
        {
            "refId": "B",
            "expr": f"histogram_quantile(0.50, sum by (le) (rate({LATENCY}{{{sel}}}[5m])))",
            "legendFormat": "p50",
        }
    )
    board = {
        "uid": "clusterforge-litellm",
        "title": "LiteLLM",
        "tags": ["litellm", "clusterforge"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"},
                {
                    "name": "namespace",
                    "type": "constant",
                    "query": settings.litellm.namespace,
                    "hide": 2,
                },
            ]
        },
        "panels": panels,
    }
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


def litellm_monitoring(settings: Settings, context: dict[str, Any]) -> list[Manifest]:
    metrics = settings.observability.metrics
    if not metrics.enabled:
        return []
    from generator.apps.cache import cache_namespace  # noqa: PLC0415 - avoids an import cycle at load

    ctx = {**context, "metrics": metrics, "dashboards": settings.observability.dashboards}
    manifests = []
    if metrics.service_monitor.enabled:
        manifests.append(Manifest("servicemonitor.yaml", "apps/litellm/servicemonitor.yaml.j2", ctx))
    if metrics.rules:
        rules = alert_rules(settings, cache_namespace(settings))
        manifests.append(
            Manifest("prometheusrule.yaml", "apps/litellm/prometheusrule.yaml.j2", {**ctx, "rules": rules})
        )
    if settings.observability.dashboards.enabled:
        manifests.append(
            Manifest(
                "dashboard-configmap.yaml",
                "apps/litellm/dashboard-configmap.yaml.j2",
                {**ctx, "dashboard": dashboard(settings)},
            )
        )
    return manifests
