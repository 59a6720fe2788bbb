"""The one HTTP module: every byte oref fetches goes through ``HttpClient``.

What a careful client of public open-data portals does:
- separate connect and read timeouts;
- retries with exponential backoff and full jitter on 429, 5xx, timeouts and dropped connections,
  honouring ``Retry-After`` (seconds or an HTTP date) when the server sends one;
- a ``User-Agent`` naming the project, so portal operators know who calls them;
- conditional GET (``If-None-Match`` / ``If-Modified-Since``) so unchanged files are not downloaded;
- streamed downloads to a temporary file with a SHA-256, a size cap and a truncation check
  (fewer bytes than ``Content-Length`` is an error, never a short file landed as data);
- a per-host minimum interval between requests (rate limit);
- a connection dropped mid-body (``IncompleteRead``, ``ChunkedEncodingError``, a reset) is retried
  like a 5xx: the whole exchange starts again, into a fresh temporary file;
- a total deadline per call (``OREF_HTTP_TOTAL_TIMEOUT``, retries and backoff included) besides the
  per-read timeout: a server trickling bytes resets the read timeout with every byte, never the
  deadline. Bodies are read with ``read1`` (whatever the socket has, at most 1 MiB), so the
  deadline is checked between reads however slowly bytes arrive;
- every failure is an ``HttpError`` naming the URL (a redirect loop, invalid JSON, a malformed
  URL included), never a ``requests`` traceback, with ``permanent`` saying whether a retry can help.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import http.client
import json
import logging
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from oref.config import Settings
from oref.errors import HttpError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CHUNK = 1 << 20
_T = TypeVar("_T")

# What a connection that fails or drops, before or during the body, raises at each layer: requests
# (ConnectionError, Timeout, ChunkedEncodingError, ContentDecodingError of a cut gzip stream),
# urllib3 (ProtocolError, IncompleteRead, ReadTimeoutError) and the standard library underneath
# (http.client.IncompleteRead, ConnectionResetError, TimeoutError). All are worth a retry.
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
)


class _Dropped(Exception):
    """The body stopped short (connection dropped, reset, truncated): the exchange is retried."""


class _Deadline:
    """The total time one call may take, retries and backoff included (``OREF_HTTP_TOTAL_TIMEOUT``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self, url: str, what: str) -> None:
        if self.remaining() <= 0:
            raise HttpError(url, f"total deadline of {self.seconds:g} s exceeded (OREF_HTTP_TOTAL_TIMEOUT) {what}: "
                            "the server answers too slowly", permanent=False)


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


class HostLimiters:
    """Per-host request pacing shared by the HTTP clients of sources fetched at once: two sources
    on one host (data.gouv.fr) share its pace, at the stricter of their limits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_host: dict[str, _HostLimiter] = {}

    def for_limits(self, rate_limits: Mapping[str, float]) -> dict[str, _HostLimiter]:
        with self._lock:
            for host, rps in rate_limits.items():
                limiter = self._by_host.setdefault(host, _HostLimiter(1.0 / rps))
                limiter.min_interval = max(limiter.min_interval, 1.0 / rps)
            return {host: self._by_host[host] for host in rate_limits}


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
        shared_limiters: HostLimiters | None = None,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = settings.user_agent
        # requests per second allowed per host; snapshot URLs are keyed by their real host too
        limits = rate_limits or {}
        self._limiters = (shared_limiters.for_limits(limits) if shared_limiters is not None
                          else {host: _HostLimiter(1.0 / rps) for host, rps in limits.items()})
        self.requests_made = 0

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public API ----------------------------------------------------------------------------
    def get_json(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        response = self._exchange(url, params=params, consume=functools.partial(self._read_all, url))
        return self.json_of(response, url)

    @staticmethod
    def json_of(response: requests.Response, url: str) -> Any:
        """The JSON document of a response, or an ``HttpError`` naming the URL and what came instead.

        Transient: a portal answering 200 with an HTML maintenance page or a cut document is
        usually back to normal later.
        """
        try:
            return json.loads(response.content)
        except ValueError as exc:
            snippet = response.content[:120].decode("utf-8", "replace").replace("\n", " ")
            raise HttpError(url, f"invalid JSON ({exc}) in a {response.headers.get('content-type') or 'response'} "
                            f"answer: {snippet!r}", response.status_code, permanent=False) from exc

    def download(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        dest_dir: Path | None = None,
    ) -> Download:
        """Stream ``url`` to a temporary file; conditional on ``etag``/``last_modified``.

        A connection dropped mid-body is retried from the start into a fresh file; the whole call
        (retries included) must end within ``OREF_HTTP_TOTAL_TIMEOUT``.
        """
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        def consume(response: requests.Response, deadline: _Deadline) -> Download:
            return self._stream_to_file(url, response, deadline, dest_dir)

        return self._exchange(url, params=params, headers=headers, consume=consume)

    def _stream_to_file(self, url: str, response: requests.Response, deadline: _Deadline,
                        dest_dir: Path | None) -> Download:
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
                for chunk in self._body(url, response, deadline):
                    size += len(chunk)
                    if size > self.settings.max_download_bytes:
                        raise HttpError(url, f"download exceeds {self.settings.max_download_bytes} bytes",
                                        permanent=True)
                    digest.update(chunk)
                    tmp.write(chunk)
            # requests decodes gzip transparently, so Content-Length only binds identity bodies
            if expected and expected.isdigit() and "content-encoding" not in resp_headers \
                    and size != int(expected):
                raise _Dropped(f"truncated download: got {size} of {expected} bytes")
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
        429 raise ``HttpError`` with the status. The body is read (``response.content``).
        """
        return self._exchange(url, params=params, headers=headers, consume=functools.partial(self._read_all, url))

    def post_form(self, url: str, data: Mapping[str, str], *,
                  params: Mapping[str, str] | None = None) -> requests.Response:
        """A form POST (OAuth2 token endpoints), with the same retries and routing as GET."""
        return self._exchange(url, params=params, method="POST", data=data,
                              consume=functools.partial(self._read_all, url))

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

    def _deadline(self) -> _Deadline:
        return _Deadline(self.settings.total_timeout)

    def _body(self, url: str, response: requests.Response, deadline: _Deadline) -> Iterator[bytes]:
        """The decoded body, read by whatever the socket holds (``read1``), the deadline checked between reads.

        ``iter_content`` would block in one read until 1 MiB has arrived, which a trickling server
        never sends; ``read1`` returns after each read of the socket, so the loop regains control.
        """
        raw = response.raw
        got = 0
        while True:
            deadline.check(url, f"after {got} bytes of the body")
            try:
                chunk = raw.read1(_CHUNK, decode_content=True)
            except _TRANSPORT_ERRORS as exc:
                raise _Dropped(f"connection dropped after {got} bytes: {type(exc).__name__}: {exc}") from exc
            if not chunk:
                return
            got += len(chunk)
            yield chunk

    def _read_all(self, url: str, response: requests.Response, deadline: _Deadline) -> requests.Response:
        """Read the whole body into ``response.content`` under the call's deadline (the non-streamed calls)."""
        try:
            body = b"".join(self._body(url, response, deadline))
        except BaseException:
            response.close()
            raise
        response.raw.release_conn()  # the body was read to its end: the connection can serve the next call
        response._content = body  # what requests itself sets once it has read a body
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    def _exchange(
        self,
        url: str,
        *,
        consume: Callable[[requests.Response, _Deadline], _T],
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
    ) -> _T:
        """One request and its body, retried on 429, 5xx, network errors and bodies cut short.

        ``consume`` reads the body (to memory or to a file) and may raise ``_Dropped``; a 4xx other
        than 429 raises ``HttpError`` at once. The whole exchange, backoff included, must end within
        ``OREF_HTTP_TOTAL_TIMEOUT``.
        """
        deadline = self._deadline()
        target = self.settings.resolve_url(url)
        attempts = self.settings.max_retries + 1
        last_problem = ""
        for attempt in range(attempts):
            deadline.check(url, f"after {attempt} attempt(s){': ' + last_problem if last_problem else ''}")
            self._throttle(url)
            self.requests_made += 1
            # the read timeout never outlasts the deadline: a silent server is cut when the deadline is
            timeout = (self.settings.connect_timeout, max(0.001, min(self.settings.read_timeout, deadline.remaining())))
            delay: float | None = None
            try:
                response = self._session.request(
                    method, target, params=params, headers=dict(headers or {}), data=data, timeout=timeout,
                    stream=True,
                )
            except requests.TooManyRedirects as exc:
                raise HttpError(url, f"redirect loop: more than {self._session.max_redirects} redirects ({exc})",
                                permanent=True) from exc
            except _TRANSPORT_ERRORS as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
            except requests.RequestException as exc:  # a malformed URL or header: no retry cures it
                raise HttpError(url, f"{type(exc).__name__}: {exc}", permanent=True) from exc
            else:
                if response.status_code in RETRY_STATUSES:
                    last_problem = f"HTTP {response.status_code}"
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    status = response.status_code
                    response.close()
                    if attempt + 1 >= attempts:
                        raise HttpError(url, f"gave up after {attempts} attempts: {last_problem}", status)
                    delay = self._backoff(attempt)
                    if retry_after is not None:
                        delay = min(max(delay, retry_after), self.settings.backoff_max)
                elif response.status_code >= 400:
                    snippet = _snippet(response)
                    response.close()
                    raise HttpError(url, f"HTTP {response.status_code} {snippet}".strip(), response.status_code)
                else:
                    try:
                        return consume(response, deadline)
                    except _Dropped as exc:
                        last_problem = str(exc)
            if attempt + 1 >= attempts:
                raise HttpError(url, f"gave up after {attempts} attempts: {last_problem}", permanent=False)
            if delay is None:
                delay = self._backoff(attempt)
            log.warning("%s %s failed (%s); retry %d in %.1fs", method, url, last_problem, attempt + 1, delay)
            self._sleep(max(0.0, min(delay, deadline.remaining())))
        raise HttpError(url, f"gave up: {last_problem}")  # pragma: no cover - loop always returns/raises


def _snippet(response: requests.Response) -> str:
    """The start of an error body (what the server says went wrong), never more than 200 bytes read."""
    try:
        head = response.raw.read(200, decode_content=True) or b""
    except Exception:  # the status is the error; its body is a courtesy
        return ""
    return head.decode("utf-8", "replace").replace("\n", " ").strip()


def _real_host(url: str, settings: Settings) -> str:
    parts = urlsplit(url)
    if settings.replay_url and url.startswith(settings.replay_url):
        # <replay>/<host>/<path>: the first path segment names the real host
        rest = url[len(settings.replay_url):].lstrip("/")
        return rest.split("/", 1)[0]
    return parts.hostname or ""
