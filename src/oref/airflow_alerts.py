"""The notifier of the ``oref_monthly_refresh`` DAG: one message per blocked, degraded or failed run.

Set on the DAG as ``on_failure_callback`` (a blocked or failed run fails the DAG run) and
``on_success_callback`` (a degraded run succeeds, and still alerts). Airflow runs DAG callbacks in
the dag-processor (``dag.test()`` runs them inline). The notifier reads the run's verdict from the
record ``finish`` wrote (``runs/<run>/quality.json``) and sends it with ``oref.alerts.send_alert``,
the CLI's alert, so both paths send the same JSON: run id, status, reason, report path, territory.

Where it goes:

- the Airflow connection ``oref_alerts`` (``AIRFLOW_CONN_OREF_ALERTS``), an HTTP webhook, e.g.
  ``AIRFLOW_CONN_OREF_ALERTS='{"conn_type": "http", "host": "https://hooks.example/oref"}'``
  or the URI form ``http://host:port/path``; else ``OREF_ALERT_WEBHOOK_URL``;
- and, when ``OREF_ALERT_EMAIL`` names recipients, Airflow's SMTP notifier (the ``smtp_default``
  connection) sends the same verdict by mail.

This module imports Airflow: only DAG files import it (``oref.airflow_support`` stays Airflow-free).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from airflow.sdk import BaseNotifier

from oref.airflow_support import sanitize_run_id

log = logging.getLogger("oref.airflow")

ALERT_CONN_ID = "oref_alerts"
ALERT_STATUSES = frozenset({"blocked", "degraded", "failed"})


def webhook_url_of(conn_id: str = ALERT_CONN_ID) -> str | None:
    """The webhook URL of an Airflow connection, or ``None`` when it is not defined."""
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception:  # AirflowNotFoundException, or no secrets backend reachable: no such connection
        return None
    host = (conn.host or "").strip()
    if not host:
        return None
    if "://" in host:  # the JSON form, the whole URL in host
        return host
    scheme = "https" if (conn.conn_type or "").lower() == "https" else "http"
    port = f":{conn.port}" if conn.port else ""
    path = f"/{conn.schema.lstrip('/')}" if conn.schema else ""
    return f"{scheme}://{host}{port}{path}"


class OrefRunNotifier(BaseNotifier):
    """Alert on a blocked, degraded or failed run of the monthly refresh, once, with its verdict."""

    def __init__(self, conn_id: str = ALERT_CONN_ID) -> None:
        super().__init__()
        self.conn_id = conn_id

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render (no template fields). BaseNotifier's would build a Jinja environment
        from ``context["dag"]``, which ``dag.test()`` (3.3) passes as a ``SerializedDAG`` without
        ``get_template_env``: the callback failed there before sending anything."""

    def notify(self, context: Any) -> None:
        from oref.alerts import send_alert
        from oref.config import Settings
        from oref.quality.store import RunRecord, load_record, now, record_path

        airflow_run_id = str(context.get("run_id") or getattr(context.get("dag_run"), "run_id", ""))
        run_id = sanitize_run_id(airflow_run_id)
        settings = Settings.from_env()
        path = record_path(settings, run_id)
        if path.is_file():
            record = load_record(path)[0]
        else:  # finish never ran (the run timed out, or was stopped): the DAG run's own verdict
            reason = f"no record for run {run_id}: {context.get('reason') or 'the run stopped before finish'}"
            record = RunRecord(run_id=run_id, started_at=now(), finished_at=now(), territory=settings.territory.label,
                               source_mode=settings.source_mode, status="failed", reason=reason)
        if record.status not in ALERT_STATUSES:
            log.info("alert: run %s %s, nothing to send", run_id, record.status)
            return
        url = webhook_url_of(self.conn_id)
        if url:  # the Airflow connection wins over OREF_ALERT_WEBHOOK_URL
            settings = dataclasses.replace(settings, alert_webhook_url=url)
        problem = send_alert(settings, record)
        if problem:
            log.warning("alert: run %s %s not sent: %s", run_id, record.status, problem)
        elif settings.alert_webhook_url:
            log.info("alert: run %s %s sent", run_id, record.status)
        self._send_mail(list(settings.alert_email), run_id, record.status, record.reason, record.report_path)

    @staticmethod
    def _send_mail(recipients: list[str], run_id: str, status: str, reason: str | None, report: str | None) -> None:
        if not recipients:
            return
        try:
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            SmtpNotifier(to=recipients, subject=f"oref: run {run_id} {status}",
                         html_content=f"<p>Run {run_id}: <b>{status}</b></p><p>{reason or ''}</p>"
                                      f"<p>Report: {report or '(none)'}</p>").notify({})
        except Exception as exc:  # an alert must never break the callback chain
            log.warning("alert: the mail to %s was not sent: %s", recipients, exc)


alert_on_run = OrefRunNotifier()
