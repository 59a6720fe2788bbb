"""The HTTP module against the real replay server on loopback: retries, Retry-After, 304, truncation,
dropped connections, the total deadline, invalid JSON and redirect loops."""

from __future__ import annotations

import hashlib
import itertools
import time
from pathlib import Path

import pytest

from oref.config import Settings, Territory
from oref.errors import HttpError
from oref.http import HttpClient, parse_retry_after
from oref.replay import Fault, ReplayServer

FILE_PATH = "/www.insee.fr/fr/statistiques/fichier/1/data.csv"
REAL_URL = "https://www.insee.fr/fr/statistiques/fichier/1/data.csv"
BODY = b"COM,LIBELLE\n97209,Fort-de-France\n" * 200


@pytest.fixture()
def snapshot(tmp_path: Path) -> Path:
    target = tmp_path / "snap" / "www.insee.fr" / "fr" / "statistiques" / "fichier" / "1"
    target.mkdir(parents=True)
    (target / "data.csv").write_bytes(BODY)
    return tmp_path / "snap"


def _client(server: ReplayServer, sleeps: list[float], tmp_path: Path, retries: int = 3,
            total_timeout: float = 600.0) -> HttpClient:
    settings = Settings(territory=Territory("departement", "972"), data_dir=tmp_path / "data",
                        source_mode="snapshot", replay_url=server.base_url, max_retries=retries,
                        backoff_base=0.01, backoff_max=30, total_timeout=total_timeout)
    return HttpClient(settings, sleep=sleeps.append)


def test_download_streams_with_sha256_and_user_agent(snapshot: Path, tmp_path: Path) -> None:
    with ReplayServer(snapshot) as server, _client(server, [], tmp_path) as http:
        result = http.download(REAL_URL, dest_dir=tmp_path)
    assert result.status == 200
    assert result.bytes == len(BODY)
    assert result.sha256 == hashlib.sha256(BODY).hexdigest()
    assert result.path is not None and result.path.read_bytes() == BODY
    assert result.etag


def test_429_then_success_honours_retry_after(snapshot: Path, tmp_path: Path) -> None:
    sleeps: list[float] = []
    faults = {FILE_PATH: [Fault(429, {"Retry-After": "7"}), Fault(503)]}
    with ReplayServer(snapshot, faults=faults) as server, _client(server, sleeps, tmp_path) as http:
        result = http.download(REAL_URL, dest_dir=tmp_path)
        assert server.requests.count(FILE_PATH) == 3
    assert result.status == 200 and result.bytes == len(BODY)
    # the first wait honours Retry-After (7 s); the second is a jittered backoff below the cap
    assert sleeps[0] == pytest.approx(7.0)
    assert 0 <= sleeps[1] <= 0.02 + 1e-9


def test_gives_up_after_retries_naming_the_url(snapshot: Path, tmp_path: Path) -> None:
    faults = {FILE_PATH: [Fault(502)] * 5}
    with ReplayServer(snapshot, faults=faults) as server, _client(server, [], tmp_path, retries=2) as http, \
            pytest.raises(HttpError) as excinfo:
        http.download(REAL_URL, dest_dir=tmp_path)
    assert "gave up after 3 attempts: HTTP 502" in str(excinfo.value)
    assert REAL_URL in str(excinfo.value)


def test_404_is_not_retried(snapshot: Path, tmp_path: Path) -> None:
    sleeps: list[float] = []
    with ReplayServer(snapshot) as server, _client(server, sleeps, tmp_path) as http, \
            pytest.raises(HttpError) as excinfo:
        http.download("https://www.insee.fr/absent.csv", dest_dir=tmp_path)
    assert excinfo.value.status == 404
    assert sleeps == []


def test_truncated_download_is_an_error_and_leaves_no_file(snapshot: Path, tmp_path: Path) -> None:
    faults = {FILE_PATH: [Fault(200, truncate_to=100)]}
    dest = tmp_path / "incoming"
    with ReplayServer(snapshot, faults=faults) as server, _client(server, [], tmp_path, retries=0) as http, \
            pytest.raises(HttpError) as excinfo:
        http.download(REAL_URL, dest_dir=dest)
    message = str(excinfo.value)
    assert "gave up after 1 attempts: connection dropped after 100 bytes" in message, message
    assert REAL_URL in message
    assert excinfo.value.permanent is False  # a dropped connection: a later retry may succeed
    assert list(dest.iterdir()) == []


def test_connection_dropped_once_mid_download_is_retried_and_lands(snapshot: Path, tmp_path: Path) -> None:
    sleeps: list[float] = []
    faults = {FILE_PATH: [Fault(200, truncate_to=100)]}
    dest = tmp_path / "incoming"
    with ReplayServer(snapshot, faults=faults) as server, _client(server, sleeps, tmp_path, retries=2) as http:
        result = http.download(REAL_URL, dest_dir=dest)
        assert server.requests.count(FILE_PATH) == 2
    assert result.bytes == len(BODY) and result.sha256 == hashlib.sha256(BODY).hexdigest()
    assert len(sleeps) == 1  # one backoff, as for a 5xx
    assert [p.name for p in dest.iterdir()] == [result.path.name if result.path else ""]  # the cut file is gone


def test_a_trickling_server_meets_the_total_deadline(snapshot: Path, tmp_path: Path) -> None:
    # 16 bytes every 0.05 s: each read returns well within the read timeout, so only the deadline stops it
    faults = {FILE_PATH: [Fault(200, trickle=(16, 0.05))]}
    dest = tmp_path / "incoming"
    started = time.monotonic()
    with ReplayServer(snapshot, faults=faults) as server, \
            _client(server, [], tmp_path, retries=3, total_timeout=0.5) as http, pytest.raises(HttpError) as excinfo:
        http.download(REAL_URL, dest_dir=dest)
    elapsed = time.monotonic() - started
    message = str(excinfo.value)
    assert "total deadline of 0.5 s exceeded (OREF_HTTP_TOTAL_TIMEOUT) after " in message, message
    assert "bytes of the body" in message and REAL_URL in message
    assert excinfo.value.permanent is False
    assert elapsed < 3, elapsed  # the whole file would take 6,600 / 16 * 0.05 = 20 s
    assert list(dest.iterdir()) == []


def test_invalid_json_is_an_http_error_naming_the_url(snapshot: Path, tmp_path: Path) -> None:
    faults = {FILE_PATH: [Fault(200, body=b'{"resources": [')]}
    with ReplayServer(snapshot, faults=faults) as server, _client(server, [], tmp_path) as http, \
            pytest.raises(HttpError) as excinfo:
        http.get_json(REAL_URL)
    message = str(excinfo.value)
    assert message.startswith("invalid JSON (Expecting value: line 1 column 16 (char 15))"), message
    assert "'{\"resources\": ['" in message and REAL_URL in message


def test_a_redirect_loop_is_a_permanent_http_error(snapshot: Path, tmp_path: Path) -> None:
    sleeps: list[float] = []
    faults = {FILE_PATH: [Fault(302, {"Location": FILE_PATH})] * 40}
    with ReplayServer(snapshot, faults=faults) as server, _client(server, sleeps, tmp_path) as http, \
            pytest.raises(HttpError) as excinfo:
        http.download(REAL_URL, dest_dir=tmp_path)
    assert str(excinfo.value).startswith("redirect loop: more than 30 redirects"), str(excinfo.value)
    assert REAL_URL in str(excinfo.value)
    assert excinfo.value.permanent is True and sleeps == []


@pytest.mark.parametrize(("status", "permanent"), [(404, True), (410, True), (401, True), (403, True),
                                                   (400, True), (429, False), (503, False), (500, False)])
def test_permanent_and_transient_statuses(snapshot: Path, tmp_path: Path, status: int, permanent: bool) -> None:
    faults = {FILE_PATH: [Fault(status, body=b"nope")] * 2}
    with ReplayServer(snapshot, faults=faults) as server, _client(server, [], tmp_path, retries=1) as http, \
            pytest.raises(HttpError) as excinfo:
        http.download(REAL_URL, dest_dir=tmp_path)
    assert excinfo.value.status == status
    assert excinfo.value.permanent is permanent
    # permanent statuses are not retried; transient ones are, up to max_retries
    assert server.requests.count(FILE_PATH) == (1 if permanent else 2)


def test_conditional_get_answers_304(snapshot: Path, tmp_path: Path) -> None:
    with ReplayServer(snapshot) as server, _client(server, [], tmp_path) as http:
        first = http.download(REAL_URL, dest_dir=tmp_path)
        second = http.download(REAL_URL, etag=first.etag, dest_dir=tmp_path)
    assert second.not_modified and second.path is None


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("soon") is None


def test_clients_of_sources_fetched_at_once_share_a_host_pace(snapshot: Path, tmp_path: Path) -> None:
    """Two sources on one host, fetched in two threads, keep the host's stricter rate between them."""
    import threading

    from oref.http import HostLimiters

    limiters = HostLimiters()
    settings = Settings(territory=Territory("departement", "972"), data_dir=tmp_path / "data",
                        source_mode="snapshot", max_retries=0)
    stamps: list[float] = []
    lock = threading.Lock()

    def fetch(server: ReplayServer, rps: float) -> None:
        with HttpClient(settings.with_(replay_url=server.base_url), rate_limits={"www.insee.fr": rps},
                        shared_limiters=limiters) as http:
            for _ in range(3):
                http.download(REAL_URL, dest_dir=tmp_path)
                with lock:
                    stamps.append(time.monotonic())

    with ReplayServer(snapshot) as server:
        threads = [threading.Thread(target=fetch, args=(server, rps)) for rps in (10.0, 5.0)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    stamps.sort()
    # six downloads paced at 5 per second whichever client made them: about 0.2 s apart
    assert len(stamps) == 6
    # (a lower bound only: a slow machine makes the gaps longer, never shorter)
    assert all(b - a >= 0.15 for a, b in itertools.pairwise(stamps)), stamps
    # the stricter of the two limits holds for every client of the host
    assert limiters.for_limits({"www.insee.fr": 10.0})["www.insee.fr"].min_interval == pytest.approx(0.2)
