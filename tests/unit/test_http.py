"""The HTTP module against the real replay server on loopback: retries, Retry-After, 304, truncation."""

from __future__ import annotations

import hashlib
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


def _client(server: ReplayServer, sleeps: list[float], tmp_path: Path, retries: int = 3) -> HttpClient:
    settings = Settings(territory=Territory("departement", "972"), data_dir=tmp_path / "data",
                        source_mode="snapshot", replay_url=server.base_url, max_retries=retries,
                        backoff_base=0.01, backoff_max=30)
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
    assert "truncated download" in message or "interrupted" in message
    assert list(dest.iterdir()) == []


def test_conditional_get_answers_304(snapshot: Path, tmp_path: Path) -> None:
    with ReplayServer(snapshot) as server, _client(server, [], tmp_path) as http:
        first = http.download(REAL_URL, dest_dir=tmp_path)
        second = http.download(REAL_URL, etag=first.etag, dest_dir=tmp_path)
    assert second.not_modified and second.path is None


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("soon") is None
