"""Spread work over processes with a bare ``fork`` and a pipe: no multiprocessing import, no pickling.

Results travel as ``marshal`` data (plain tuples, lists, dicts and strings), which loads several
times faster than pickle. Only on Linux; elsewhere, and for one chunk, the work runs in this process.
Fork before starting threads: a child must not inherit a lock another thread holds.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def split_by_size(items: Sequence[T], sizes: Sequence[int], parts: int) -> list[list[T]]:
    """``parts`` lists of about equal total size (largest first, each to the lightest list).

    Measured: an even split beats giving this process, which also merges, a larger or smaller share.
    """
    bins: list[list[T]] = [[] for _ in range(max(parts, 1))]
    totals = [0] * len(bins)
    for index in sorted(range(len(items)), key=lambda i: -sizes[i]):
        lightest = totals.index(min(totals))
        bins[lightest].append(items[index])
        totals[lightest] += sizes[index]
    return [b for b in bins if b]


class Forked:
    """Child processes started now, each running ``work`` on its chunk; collect their results later."""

    def __init__(self, work: Callable[[Any], Any], chunks: list[Any]) -> None:
        self.children: list[tuple[int, int]] = []
        self.local: list[Any] = []
        if not chunks:
            return
        if sys.platform != "linux":
            self.local = [work(chunk) for chunk in chunks]
            return
        for chunk in chunks:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: work, send, leave without running any exit handler
                os.close(read)
                try:
                    payload = marshal.dumps((True, work(chunk)))
                except BaseException as exc:  # reported by the parent
                    payload = marshal.dumps((False, f"{type(exc).__name__}: {exc}"))
                with os.fdopen(write, "wb") as out:
                    out.write(payload)
                os._exit(0)
            os.close(write)
            self.children.append((pid, read))

    def results(self) -> list[Any]:
        gathered = list(self.local)
        for pid, read in self.children:
            with os.fdopen(read, "rb") as source:
                data = source.read()
            os.waitpid(pid, 0)
            if not data:
                raise RuntimeError("a worker process died without a result")
            ok, value = marshal.loads(data)  # noqa: S302 - our own child, through our own pipe
            if not ok:
                raise RuntimeError(f"a worker process failed: {value}")
            gathered.append(value)
        return gathered
