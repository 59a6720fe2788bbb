"""A loopback HTTP server that serves the bundled snapshot at the real URL paths of every source.

Layout served: ``<snapshot_dir>/<host>/<path>``, requested as ``http://127.0.0.1:PORT/<host>/<path>``
(``Settings.resolve_url`` maps real URLs to that form). The server imitates what oref's clients
depend on, so that behaviour is exercised in tests rather than assumed:

- ``ETag`` on every file and ``304 Not Modified`` for a matching ``If-None-Match``;
- absolute URLs of known hosts inside JSON documents are rewritten to point back at the server
  (the data.gouv.fr dataset API lists resource URLs);
- data.gouv.fr stable resource links ``/api/1/datasets/r/<id>`` answer ``302`` to the resource URL;
- Opendatasoft ``exports/csv`` apply the ``where`` filter (``field="v"``, ``field IN ("a","b")``,
  joined by ``and``) and the ``delimiter`` parameter, and reject ``/records`` past offset 10,000;
- scripted faults for tests (``faults={"<path prefix>": [Fault(429, {"Retry-After": "1"}), ...]}``)
  consumed one per matching request before normal service: a status with a body, the real file
  cut short (``truncate_to``: a dropped connection), or the real file trickled a few bytes at a
  time (``trickle``: a server that never trips a read timeout).

Run it standalone with ``python -m oref.replay --port 8765``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from oref.config import LIVE_HOSTS
from oref.replay_apis import ReplayRequest, emulators

log = logging.getLogger(__name__)

_CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
_ODS_MAX_OFFSET = 10_000
_WHERE_EQ = re.compile(r'^\s*(\w+)\s*=\s*"([^"]*)"\s*$')
_WHERE_IN = re.compile(r'^\s*(\w+)\s+in\s*\(([^)]*)\)\s*$', re.IGNORECASE)


@dataclass
class Fault:
    """One scripted answer served instead of the file (e.g. a 429 with ``Retry-After``)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncate_to: int | None = None  # serve the real file but cut after N bytes (Content-Length kept)
    # serve the real file (or ``body``) ``trickle[0]`` bytes every ``trickle[1]`` seconds
    trickle: tuple[int, float] | None = None

    @property
    def serves_file(self) -> bool:
        """Whether the fault alters how the real file is sent rather than replacing the answer."""
        return self.truncate_to is not None or (self.trickle is not None and not self.body)


class ODSWhereError(ValueError):
    pass


def parse_ods_where(where: str) -> list[tuple[str, set[str]]]:
    """Parse the small ODSQL subset oref sends: equality and IN clauses joined by ``and``."""
    clauses: list[tuple[str, set[str]]] = []
    for part in re.split(r"\s+and\s+", where.strip(), flags=re.IGNORECASE):
        if m := _WHERE_EQ.match(part):
            clauses.append((m.group(1), {m.group(2)}))
        elif m := _WHERE_IN.match(part):
            values = {v.strip().strip('"') for v in m.group(2).split(",") if v.strip()}
            clauses.append((m.group(1), values))
        else:
            raise ODSWhereError(f"unsupported where clause: {part!r}")
    return clauses


class _Handler(BaseHTTPRequestHandler):
    server: _ReplayHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("replay: " + format, *args)

    # --- dispatch ------------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_POST(self) -> None:
        self._serve(head=False, method="POST")

    def _serve(self, head: bool, method: str = "GET") -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body_in = self.rfile.read(length) if length else b""
        replay = self.server.replay
        fault = replay.take_fault(path)
        if fault is not None and fault.trickle is not None and fault.body:
            self._trickle(fault.status, fault.body, "text/plain; charset=utf-8", fault.trickle)
            return
        if fault is not None and not fault.serves_file:
            self._send(fault.status, fault.body, "text/plain; charset=utf-8", fault.headers, head)
            return
        segments = path.lstrip("/").split("/", 1)
        if len(segments) != 2 or segments[0] not in replay.hosts:
            self._send(404, b"unknown host in replay path\n", "text/plain", {}, head)
            return
        host, rest = segments[0], "/" + segments[1]
        request = ReplayRequest(method, host, rest, query, {k.lower(): v for k, v in self.headers.items()},
                                body_in, replay.snapshot_dir, replay.base_url, replay.state)
        for emulator in emulators():
            answer = emulator(request)
            if answer is not None:
                self._send(answer.status, answer.body, answer.content_type, answer.headers, head)
                return
        if method != "GET":
            self._send(405, b"method not allowed\n", "text/plain", {}, head)
            return
        if host == "www.data.gouv.fr" and (m := re.match(r"^/api/1/datasets/r/([\w-]+)/?$", rest)):
            target = replay.resource_redirect(m.group(1))
            if target is None:
                self._send(404, b'{"message": "Resource not found"}', "application/json", {}, head)
            else:
                self._send(302, b"", "text/plain", {"Location": replay.rewrite_url(target)}, head)
            return
        if "/records" in rest and rest.startswith("/api/explore/v2.1/"):
            offset, limit = int(query.get("offset", "0")), int(query.get("limit", "10"))
            if offset + limit > _ODS_MAX_OFFSET:
                body = json.dumps({"error_code": "InvalidRESTParameterError",
                                   "message": "offset + limit must be <= 10000"}).encode()
                self._send(400, body, "application/json", {}, head)
                return
        file = replay.locate(host, rest)
        if file is None:
            self._send(404, f"not in snapshot: {host}{rest}\n".encode(), "text/plain", {}, head)
            return
        body = file.read_bytes()
        ctype = _CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
        if "/exports/csv" in rest:
            ctype = _CONTENT_TYPES[".csv"]
            try:
                body = _ods_export(body, query)
            except ODSWhereError as exc:
                err = json.dumps({"error_code": "ODSQLError", "message": str(exc)}).encode()
                self._send(400, err, "application/json", {}, head)
                return
        elif file.suffix.lower() == ".json":
            body = replay.rewrite_json(body)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag}
        if replay.last_modified:
            headers["Last-Modified"] = replay.last_modified
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", ctype, headers, head)
            return
        if fault is not None and fault.trickle is not None:
            self._trickle(200, body, ctype, fault.trickle)
            return
        if fault is not None and fault.truncate_to is not None:
            # a connection that drops mid-body: announce the full length, send less, close
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: fault.truncate_to])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(200, body, ctype, headers, head)

    def _trickle(self, status: int, body: bytes, ctype: str, pace: tuple[int, float]) -> None:
        """Send ``body`` a few bytes at a time until done or the client hangs up."""
        step, interval = pace
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for start in range(0, len(body), step):
                self.wfile.write(body[start:start + step])
                self.wfile.flush()
                time.sleep(interval)
        except OSError:  # the client gave up (its deadline): what the fault is for
            return

    def _send(self, status: int, body: bytes, ctype: str, headers: Mapping[str, str], head: bool) -> None:
        self.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
        self.send_header("Content-Type", ctype)
        for key, value in headers.items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)


def _ods_export(body: bytes, query: Mapping[str, str]) -> bytes:
    """Apply an Opendatasoft export's ``where`` and ``delimiter`` to a ``;`` CSV file."""
    where = query.get("where")
    delimiter = query.get("delimiter", ";")
    if not where and delimiter == ";":
        return body
    text = body.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text), delimiter=";")
    header = next(reader)
    clauses = parse_ods_where(where) if where else []
    index = {name: i for i, name in enumerate(header)}
    for column, _ in clauses:
        if column not in index:
            raise ODSWhereError(f"unknown field in where clause: {column!r}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in reader:
        if all(row[index[col]] in values for col, values in clauses):
            writer.writerow(row)
    return out.getvalue().encode("utf-8")


class _ReplayHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    replay: ReplayServer


class ReplayServer:
    """Serve ``snapshot_dir`` on loopback; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        snapshot_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        faults: Mapping[str, list[Fault]] | None = None,
        last_modified: str | None = "Mon, 02 Jun 2025 08:00:00 GMT",
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the replay server only listens on loopback")
        self.snapshot_dir = Path(snapshot_dir).resolve()
        if not self.snapshot_dir.is_dir():
            raise FileNotFoundError(f"snapshot directory not found: {self.snapshot_dir}")
        self.hosts = set(LIVE_HOSTS) | {p.name for p in self.snapshot_dir.iterdir() if p.is_dir()}
        self.last_modified = last_modified
        self._faults = {k: list(v) for k, v in (faults or {}).items()}
        self._lock = threading.Lock()
        self.state: dict[str, object] = {}  # shared by the API emulators (tokens issued, counters)
        self._httpd = _ReplayHTTPServer((host, port), _Handler)
        self._httpd.replay = self
        self._thread: threading.Thread | None = None
        self.requests: list[str] = []

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{name}:{port}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="oref-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- behaviour -----------------------------------------------------------------------------
    def add_fault(self, path_prefix: str, *faults: Fault) -> None:
        with self._lock:
            self._faults.setdefault(path_prefix, []).extend(faults)

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            self.requests.append(path)
            for prefix, queue in self._faults.items():
                if path.startswith(prefix) and queue:
                    return queue.pop(0)
        return None

    def locate(self, host: str, path: str) -> Path | None:
        base = (self.snapshot_dir / host).resolve()
        relative = path.lstrip("/")
        candidates = [base / relative / "index.json"] if path.endswith("/") else [
            base / relative, base / f"{relative}.json", base / relative / "index.json"]
        for candidate in candidates:
            resolved = candidate.resolve()
            if base not in resolved.parents:  # no escaping the snapshot with ../
                return None
            if resolved.is_file():
                return resolved
        return None

    def rewrite_url(self, url: str) -> str:
        for host in self.hosts:
            prefix = f"https://{host}/"
            if url.startswith(prefix):
                return f"{self.base_url}/{host}/{url[len(prefix):]}"
        return url

    def rewrite_json(self, body: bytes) -> bytes:
        text = body.decode("utf-8")
        for host in sorted(self.hosts):
            text = text.replace(f"https://{host}/", f"{self.base_url}/{host}/")
        return text.encode("utf-8")

    def resource_redirect(self, resource_id: str) -> str | None:
        """Find a data.gouv.fr resource URL by id in the snapshot's dataset documents."""
        datasets = self.snapshot_dir / "www.data.gouv.fr" / "api" / "1" / "datasets"
        for doc in sorted(datasets.glob("*/index.json")):
            for resource in json.loads(doc.read_text("utf-8")).get("resources", []):
                if resource.get("id") == resource_id:
                    return str(resource["url"])
        return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the oref snapshot on loopback.")
    parser.add_argument("--snapshot-dir", type=Path, default=Path(__file__).resolve().parents[2] / "data" / "snapshot")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    server = ReplayServer(args.snapshot_dir, port=args.port)
    print(f"serving {server.snapshot_dir} on {server.base_url}", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    main()
