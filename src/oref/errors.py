"""Errors that name what went wrong: the source, the file, the column and the value.

``SourceError.permanent`` and ``HttpError.permanent`` tell a scheduler whether trying again later
can help: a 404, a 410, a refused token or a file that breaks its contract fails the same way on
every retry (permanent), a 429, a 5xx, a timeout or a dropped connection may not (transient). The
Airflow DAG fails permanent errors at once and retries transient ones.
"""

from __future__ import annotations

# 4xx statuses a later retry may cure: request timeout, too early, rate limited. Every other 4xx
# (400 bad query, 401/403 refused credentials, 404 moved, 410 withdrawn...) fails the same way again.
TRANSIENT_CLIENT_STATUSES = frozenset({408, 425, 429})


def status_is_permanent(status: int | None) -> bool:
    """A 4xx other than 408/425/429 is permanent; a 5xx, or no status at all (network), is transient."""
    return status is not None and 400 <= status < 500 and status not in TRANSIENT_CLIENT_STATUSES


class OrefError(Exception):
    """Base class of every error oref raises on purpose."""


class ConfigError(OrefError):
    """An invalid setting."""


class SourceError(OrefError):
    """A source could not be fetched or parsed; nothing of it was landed or loaded.

    ``permanent``: given explicitly, or else inferred from the error it was raised from (``raise
    SourceError(...) from exc``): an ``HttpError`` passes its own verdict on, an ``OSError`` (network,
    disk) is transient, and anything else, a file breaking its contract first of all, is permanent:
    the publisher serves the same bytes to a retry.
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        url: str | None = None,
        file: str | None = None,
        column: str | None = None,
        value: object = None,
        permanent: bool | None = None,
    ) -> None:
        self.source = source
        self.url = url
        self.file = file
        self.column = column
        self.value = value
        self._permanent = permanent
        parts = [f"source {source!r}: {message}"]
        if file:
            parts.append(f"file: {file}")
        if url:
            parts.append(f"url: {url}")
        if column:
            parts.append(f"column: {column!r}")
        if value is not None:
            parts.append(f"value: {value!r}")
        super().__init__(" | ".join(parts))

    @property
    def permanent(self) -> bool:
        if self._permanent is not None:
            return self._permanent
        cause = self.__cause__
        if isinstance(cause, (HttpError, SourceError)):
            return cause.permanent
        return not isinstance(cause, OSError)


class HttpError(OrefError):
    """An HTTP exchange failed after the retries the HTTP module allows.

    ``permanent`` defaults from the status (``status_is_permanent``); the HTTP module sets it for
    failures without a status (a redirect loop is permanent, a total deadline or a dropped
    connection transient).
    """

    def __init__(self, url: str, message: str, status: int | None = None, *, permanent: bool | None = None) -> None:
        self.url = url
        self.status = status
        self.permanent = status_is_permanent(status) if permanent is None else permanent
        super().__init__(f"{message} ({url})")


class QualityGateError(OrefError):
    """An error-level quality check failed: the build is not published."""


class PublishError(OrefError):
    """Publication could not be completed; the published warehouse is unchanged."""
