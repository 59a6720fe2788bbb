"""The one HTTP module: every byte oref fetches goes through ``HttpClient``.

What a careful client of public open-data portals does:
- separate connect and read timeouts;
- retries with exponential backoff and full jitter on 429, 5xx, timeouts and dropped connections,
  honouring ``Retry-After`` (seconds or an HTTP date) when the server sends one;
- a ``User-Agent`` naming the project, so portal operators know who calls them;
- conditional GET (``If-None-Match`` / ``If-Modified-Since``) so unchanged files are not downloaded;
- streamed downloads to a temporary file with a SHA-256, a size cap and a truncation check
  (fewer bytes than ``Content-Length`` is an error, never a short file landed as data);
- a per-host minimum interval between requests (rate limit).
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from oref.config import Settings
from oref.errors import HttpError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CHUNK = 1 << 20


@dataclass
class Download:
    """The outcome of a (conditional) GET streamed to disk."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    path: Path | None = None  # None when not modified (304)
    sha256: str | None = None
    bytes: int = 0
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


@dataclass
class _HostLimiter:
    min_interval: float
    last: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class HttpClient:
    def __init__(
        self,
        settings: Settings,
        *,
        rate_limits: Mapping[str, float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = settings.user_agent
        # requests per second allowed per host; snapshot URLs are keyed by their real host too
        self._limiters = {host: _HostLimiter(1.0 / rps) for host, rps in (rate_limits or {}).items()}
        self.requests_made = 0

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public API ----------------------------------------------------------------------------
    def get_json(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        response = self._request(url, params=params, stream=False)
        try:
            return response.json()
        except ValueError as exc:
            snippet = response.text[:120].replace("\n", " ")
            raise HttpError(url, f"expected JSON, got {response.headers.get('content-type')}: {snippet!r}")\
                from exc

    def download(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        dest_dir: Path | None = None,
    ) -> Download:
        """Stream ``url`` to a temporary file; conditional on ``etag``/``last_modified``."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = self._request(url, params=params, headers=headers, stream=True)
        resp_headers = {k.lower(): v for k, v in response.headers.items()}
        if response.status_code == 304:
            response.close()
            return Download(url, response.url, 304, resp_headers)
        expected = resp_headers.get("content-length")
        digest = hashlib.sha256()
        size = 0
        if dest_dir is not None:
            dest_dir.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.NamedTemporaryFile(prefix=".download-", dir=dest_dir, delete=False)  # noqa: SIM115
        try:
            with tmp, response:
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > self.settings.max_download_bytes:
                        raise HttpError(url, f"download exceeds {self.settings.max_download_bytes} bytes")
                    digest.update(chunk)
                    tmp.write(chunk)
            # requests decodes gzip transparently, so Content-Length only binds identity bodies
            if expected and expected.isdigit() and "content-encoding" not in resp_headers \
                    and size != int(expected):
                raise HttpError(url, f"truncated download: got {size} of {expected} bytes",
                                response.status_code)
        except requests.RequestException as exc:
            Path(tmp.name).unlink(missing_ok=True)
            raise HttpError(url, f"download interrupted: {exc}") from exc
        except BaseException:
            Path(tmp.name).unlink(missing_ok=True)
            raise
        return Download(
            url=url,
            final_url=response.url,
            status=response.status_code,
            headers=resp_headers,
            path=Path(tmp.name),
            sha256=digest.hexdigest(),
            bytes=size,
            content_type=resp_headers.get("content-type", ""),
        )

    def request(self, url: str, *, params: Mapping[str, str] | None = None,
                headers: Mapping[str, str] | None = None) -> requests.Response:
        """A GET whose status and headers the caller reads (206 paging, ``Content-Range``).

        Retries, backoff, rate limits and snapshot routing as for every other call; 4xx other than
        429 raise ``HttpError`` with the status.
        """
        return self._request(url, params=params, headers=headers, stream=False)

    def post_form(self, url: str, data: Mapping[str, str], *,
                  params: Mapping[str, str] | None = None) -> requests.Response:
        """A form POST (OAuth2 token endpoints), with the same retries and routing as GET."""
        return self._request(url, params=params, stream=False, method="POST", data=data)

    # --- internals -----------------------------------------------------------------------------
    def _throttle(self, url: str) -> None:
        limiter = self._limiters.get(_real_host(url, self.settings))
        if limiter is None:
            return
        with limiter.lock:
            wait = limiter.last + limiter.min_interval - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            limiter.last = time.monotonic()

    def _backoff(self, attempt: int) -> float:
        # "full jitter": uniform in [0, min(cap, base * 2^attempt)]
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * (2**attempt))
        return random.uniform(0, ceiling)

    def _request(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
    ) -> requests.Response:
        target = self.settings.resolve_url(url)
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        attempts = self.settings.max_retries + 1
        last_problem = ""
        for attempt in range(attempts):
            self._throttle(url)
            self.requests_made += 1
            try:
                response = self._session.request(
                    method, target, params=params, headers=dict(headers or {}), data=data, timeout=timeout,
                    stream=stream,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                if attempt + 1 < attempts:
                    delay = self._backoff(attempt)
                    log.warning("GET %s failed (%s); retry %d in %.1fs", url, last_problem, attempt + 1, delay)
                    self._sleep(delay)
                    continue
                raise HttpError(url, f"gave up after {attempts} attempts: {last_problem}") from exc
            if response.status_code in RETRY_STATUSES:
                last_problem = f"HTTP {response.status_code}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                if attempt + 1 < attempts:
                    delay = self._backoff(attempt)
                    if retry_after is not None:
                        delay = min(max(delay, retry_after), self.settings.backoff_max)
                    log.warning("GET %s answered %s; retry %d in %.1fs", url, last_problem, attempt + 1, delay)
                    self._sleep(delay)
                    continue
                raise HttpError(url, f"gave up after {attempts} attempts: {last_problem}", response.status_code)
            if response.status_code >= 400:
                snippet = response.text[:200].replace("\n", " ") if not stream else ""
                response.close()
                raise HttpError(url, f"HTTP {response.status_code} {snippet}".strip(), response.status_code)
            return response
        raise HttpError(url, f"gave up: {last_problem}")  # pragma: no cover - loop always returns/raises


def _real_host(url: str, settings: Settings) -> str:
    parts = urlsplit(url)
    if settings.replay_url and url.startswith(settings.replay_url):
        # <replay>/<host>/<path>: the first path segment names the real host
        rest = url[len(settings.replay_url):].lstrip("/")
        return rest.split("/", 1)[0]
    return parts.hostname or ""
