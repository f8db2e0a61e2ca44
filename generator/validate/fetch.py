"""Schemas from local files or URLs; downloads are kept on disk so the network is needed once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

CACHE_ENV = "CLUSTERFORGE_CACHE_DIR"
TIMEOUT = 15.0


def cache_dir(override: Path | None = None) -> Path:
    """``--cache-dir``, else $CLUSTERFORGE_CACHE_DIR, else $XDG_CACHE_HOME/clusterforge (~/.cache)."""
    if override is not None:
        return override
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "clusterforge"


class Unavailable(Exception):
    """The schema may exist but cannot be had now: a network failure, an unreadable file."""


def write_atomic(target: Path, data: bytes) -> None:
    """Write through a temporary file, so a concurrent run never reads half a file; failures are ignored."""
    import tempfile  # noqa: PLC0415 - only when something is cached

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except OSError:
        return  # a read-only cache only costs speed


@dataclass
class Fetcher:
    cache: Path
    memo: dict[str, bytes | None] = field(default_factory=dict)

    def get(self, where: str) -> bytes | None:
        """The bytes at a path or URL; None when there is nothing there (a 404, a missing file)."""
        if where in self.memo:
            return self.memo[where]
        data = self._url(where) if where.startswith(("http://", "https://")) else self._file(where)
        self.memo[where] = data
        return data

    @staticmethod
    def _file(where: str) -> bytes | None:
        try:
            return Path(where).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise Unavailable(f"{where}: {exc.strerror}") from None

    def _url(self, url: str) -> bytes | None:
        import hashlib  # noqa: PLC0415 - only when a URL location is used

        cached = self.cache / "downloads" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
        try:
            return cached.read_bytes()
        except OSError:
            pass
        import urllib.error  # noqa: PLC0415 - only when a URL location is used
        import urllib.request  # noqa: PLC0415

        request = urllib.request.Request(url, headers={"User-Agent": "clusterforge-validate"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - http(s) only
                data: bytes = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (403, 404, 410):
                return None
            raise Unavailable(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unavailable(f"{url}: {reason}") from None
        write_atomic(cached, data)
        return data
