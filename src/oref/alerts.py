"""Alerts: a run that is not cleanly published tells someone.

``finish`` calls ``send_alert`` for every ``blocked``, ``degraded`` or ``failed`` run: one JSON POST
to ``OREF_ALERT_WEBHOOK_URL`` (a Slack/Mattermost/Teams-style incoming webhook, or any HTTP
endpoint) with the verdict and the report's path:

    {"run_id": ..., "status": "degraded", "reason": ..., "report_path": ..., "territory": "972",
     "text": "oref 972: run ... degraded — ..."}

``text`` is for chat webhooks that display one field. An alert never fails the run: errors are
returned (and logged) as one line. The URL may carry a token, so only its host is ever logged.
In Airflow the DAG's notifier does the same from an Airflow connection (docs/airflow.md).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import requests

from oref.config import Settings
from oref.quality.store import RunRecord

log = logging.getLogger(__name__)

ALERT_STATUSES = frozenset({"blocked", "degraded", "failed"})
TIMEOUT_SECONDS = 10.0


def payload(record: RunRecord) -> dict[str, str | None]:
    """The JSON body of an alert."""
    reason = (record.reason or "").strip()
    first_line = reason.splitlines()[0] if reason else ""
    return {
        "run_id": record.run_id, "status": record.status, "reason": record.reason,
        "report_path": record.report_path, "territory": record.territory,
        "text": f"oref {record.territory}: run {record.run_id} {record.status}"
                + (f" — {first_line}" if first_line else "") + (f" (report: {record.report_path})"
                                                                if record.report_path else ""),
    }


def send_alert(settings: Settings, record: RunRecord) -> str | None:
    """POST the run's verdict to the webhook when one is set and the run needs attention.

    Returns None when sent or not needed, else why it was not sent; never raises.
    """
    url = settings.alert_webhook_url
    if not url or record.status not in ALERT_STATUSES:
        return None
    host = urlsplit(url).hostname or "?"
    try:
        response = requests.post(url, json=payload(record), timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        # the exception text may quote the URL (and its token): name its type and the host only
        problem = f"alert webhook on {host}: {type(exc).__name__}"
        log.warning(problem)
        return problem
    except Exception as exc:  # an alert must never fail the run it reports on
        problem = f"alert webhook on {host}: {type(exc).__name__}"
        log.warning(problem)
        return problem
    if response.status_code >= 400:
        problem = f"alert webhook on {host} answered HTTP {response.status_code}"
        log.warning(problem)
        return problem
    log.info("alert for run %s (%s) sent to %s", record.run_id, record.status, host)
    return None
