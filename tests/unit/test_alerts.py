"""Alerts: a blocked, degraded or failed run POSTs its verdict to the webhook; nothing else does, nothing raises."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from oref.alerts import send_alert
from oref.config import Settings
from oref.pipeline import finish, record_step
from oref.quality.checks import CheckResult, save_checks
from oref.quality.store import RunRecord
from oref.sources.base import FetchResult


class Receiver:
    """A loopback HTTP server recording every POST (path, JSON body); answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[str, dict[str, object]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((self.path, json.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def _record(status: str, reason: str | None = "1 error-level check(s) failed") -> RunRecord:
    return RunRecord("20250602T050000Z-abcd", "2025-06-02T05:00:00+00:00", "2025-06-02T05:03:00+00:00", "972",
                     "snapshot", status, reason=reason,  # type: ignore[arg-type]
                     report_path="/data/reports/quality-20250602T050000Z-abcd.html")


@pytest.mark.parametrize("status", ["blocked", "degraded", "failed"])
def test_a_run_needing_attention_sends_one_alert(tmp_path: Path, receiver: Receiver, status: str) -> None:
    settings = Settings(data_dir=tmp_path, alert_webhook_url=f"{receiver.url}/hooks/T0KEN-secret")
    assert send_alert(settings, _record(status)) is None
    [(path, body)] = receiver.received
    assert path == "/hooks/T0KEN-secret"
    assert {k: body[k] for k in ("run_id", "status", "reason", "report_path", "territory")} == {
        "run_id": "20250602T050000Z-abcd", "status": status, "reason": "1 error-level check(s) failed",
        "report_path": "/data/reports/quality-20250602T050000Z-abcd.html", "territory": "972"}
    assert str(body["text"]).startswith(f"oref 972: run 20250602T050000Z-abcd {status} — 1 error-level")


@pytest.mark.parametrize("status", ["published", "unchanged"])
def test_a_good_run_sends_nothing(tmp_path: Path, receiver: Receiver, status: str) -> None:
    settings = Settings(data_dir=tmp_path, alert_webhook_url=receiver.url)
    assert send_alert(settings, _record(status, None)) is None
    assert receiver.received == []


def test_without_a_webhook_nothing_is_sent(tmp_path: Path) -> None:
    assert send_alert(Settings(data_dir=tmp_path), _record("blocked")) is None


def test_an_unreachable_or_refusing_webhook_never_raises_nor_logs_its_token(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    closed = Settings(data_dir=tmp_path, alert_webhook_url="http://127.0.0.1:9/hooks/T0KEN-secret")
    problem = send_alert(closed, _record("blocked"))
    assert problem is not None and problem.startswith("alert webhook on 127.0.0.1: ConnectionError")
    with Receiver(status=403) as refusing:
        settings = Settings(data_dir=tmp_path, alert_webhook_url=f"{refusing.url}/hooks/T0KEN-secret")
        assert send_alert(settings, _record("failed")) == "alert webhook on 127.0.0.1 answered HTTP 403"
    assert "T0KEN" not in caplog.text and "T0KEN" not in repr(settings)


def test_finish_alerts_a_blocked_run(tmp_path: Path, receiver: Receiver) -> None:
    """``finish`` (the end of `oref run` and of the DAG) sends the alert with the run's reason and report."""
    settings = Settings(data_dir=tmp_path / "data", source_mode="snapshot", alert_webhook_url=receiver.url)
    failed = FetchResult("bmo", "failed", message="source 'bmo': HTTP 404")
    record_step(settings, "run-1", "fetch_bmo", "failed", "2025-06-02T05:00:00+00:00", result=asdict(failed))
    save_checks(settings.runs_dir, "run-1", "bmo",
                [CheckResult("bmo", "fetch_and_land", "oref", "error", "fail", failed.message)])
    said: list[str] = []
    record = finish(settings, "run-1", progress=said.append)
    assert record.status == "blocked"
    [(_, body)] = receiver.received
    assert (body["run_id"], body["status"]) == ("run-1", "blocked")
    assert body["reason"] == "source(s) failed, publication blocked: source 'bmo': HTTP 404"
    assert body["report_path"] == record.report_path and Path(str(record.report_path)).is_file()
    assert not any(line.startswith("[alert]") for line in said)  # sent: nothing to say
    # finish (the DAG's last task too) leaves the run's summary, which `oref sources` and scripts read
    summary = json.loads((settings.runs_dir / "run-1" / "summary.json").read_text("utf-8"))
    assert (summary["status"], summary["published"], [f["source"] for f in summary["fetches"]]) == (
        "blocked", None, ["bmo"])
    assert summary["error"] == "source(s) failed, publication blocked: source 'bmo': HTTP 404"
