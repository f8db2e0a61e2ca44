"""A client of a running proxy's admin API, for virtual keys (`clusterforge keys`).

The master key comes from the secrets file and only ever travels in the Authorization
header of the request; it is never printed. Virtual keys live in the proxy's database:
without one the proxy refuses these calls, and the error says so.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from generator.errors import ClusterforgeError, ExitCode


class ProxyError(ClusterforgeError):
    """The proxy could not be reached or answered with an error."""

    exit_code = ExitCode.TOOL


@dataclass(frozen=True)
class ProxyAdmin:
    url: str
    master_key: str = field(repr=False)
    timeout: float = 30.0

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        target = self.url.rstrip("/") + path
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked by the caller
            target,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.master_key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as exc:
            detail = _error_text(exc.read())
            # the proxy answers 500 without a database; say what the usual cause is
            hint = (
                " (virtual keys need the proxy's database: is DATABASE_URL set and reachable?)"
                if exc.code >= 500
                else ""
            )
            raise ProxyError(f"{method} {target}: the proxy answered {exc.code}: {detail}{hint}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProxyError(f"{method} {target}: cannot reach the proxy: {reason}") from None
        return json.loads(payload) if payload else None

    def generate_key(
        self,
        *,
        team: str | None,
        max_budget: float | None,
        models: list[str],
        user: str | None,
        alias: str | None,
        duration: str | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if team:
            body["team_id"] = team
        if max_budget is not None:
            body["max_budget"] = max_budget
        if models:
            body["models"] = models
        if user:
            body["user_id"] = user
            body["metadata"] = {"user_email": user}
        if alias:
            body["key_alias"] = alias
        if duration:
            body["duration"] = duration
        result = self._call("POST", "/key/generate", body)
        return result if isinstance(result, dict) else {}

    def list_keys(self) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"return_full_object": "true", "size": 100})
        result = self._call("GET", f"/key/list?{query}")
        keys = result.get("keys", []) if isinstance(result, dict) else []
        return [k if isinstance(k, dict) else {"token": str(k)} for k in keys]

    def delete_keys(self, keys: list[str], aliases: list[str]) -> list[str]:
        body: dict[str, Any] = {}
        if keys:
            body["keys"] = keys
        if aliases:
            body["key_aliases"] = aliases
        result = self._call("POST", "/key/delete", body)
        deleted = result.get("deleted_keys", []) if isinstance(result, dict) else []
        return [str(k) for k in deleted]


def _error_text(payload: bytes) -> str:
    try:
        data = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace").strip()[:500]
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data))
        if isinstance(error, dict):
            return str(error.get("message", error))[:500]
        return str(error)[:500]
    return str(data)[:500]


def keys_table(keys: list[dict[str, Any]]) -> str:
    rows = [["ALIAS", "KEY", "TEAM", "USER", "BUDGET", "SPEND", "MODELS"]]
    for key in keys:
        rows.append(
            [
                str(key.get("key_alias") or "-"),
                str(key.get("key_name") or "-"),
                str(key.get("team_id") or "-"),
                str(key.get("user_id") or "-"),
                "-" if key.get("max_budget") is None else str(key.get("max_budget")),
                str(key.get("spend", 0)),
                ",".join(key.get("models") or []) or "all",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in rows)
