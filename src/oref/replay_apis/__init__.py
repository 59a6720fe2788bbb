"""API emulators for the replay server: one module per API whose behaviour a client depends on.

A module here exposes ``handle(request: ReplayRequest) -> ReplayResponse | None``; the replay server
asks every module (in name order) before serving a static snapshot file, and serves the first
answer. Use it for what a static file cannot show: OAuth token exchanges, ``range`` paging with
206 + ``Content-Range``, ``page``/``per_page`` paging, rate limits answering 429 + ``Retry-After``.
Emulators read their data from the snapshot folder (``request.snapshot_dir``), never invent it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


@dataclass
class ReplayRequest:
    method: str
    host: str  # the real host, e.g. "api.francetravail.io"
    path: str  # the real path, e.g. "/partenaire/offresdemploi/v2/offres/search"
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    snapshot_dir: Path
    base_url: str  # the replay server's own address, for URLs in responses
    state: dict[str, object]  # per-server mutable state shared by emulators (tokens, counters)


@dataclass
class ReplayResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Emulator = Callable[[ReplayRequest], "ReplayResponse | None"]


@cache
def emulators() -> tuple[Emulator, ...]:
    found: list[Emulator] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        handle = getattr(module, "handle", None)
        if callable(handle):
            found.append(handle)
    return tuple(found)
