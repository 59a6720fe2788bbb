"""Errors that name what went wrong: the source, the file, the column and the value."""

from __future__ import annotations


class OrefError(Exception):
    """Base class of every error oref raises on purpose."""


class ConfigError(OrefError):
    """An invalid setting."""


class SourceError(OrefError):
    """A source could not be fetched or parsed; nothing of it was landed or loaded."""

    def __init__(
        self,
        source: str,
        message: str,
        *,
        url: str | None = None,
        file: str | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.source = source
        self.url = url
        self.file = file
        self.column = column
        self.value = value
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


class HttpError(OrefError):
    """An HTTP exchange failed after the retries the HTTP module allows."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(f"{message} ({url})")


class QualityGateError(OrefError):
    """An error-level quality check failed: the build is not published."""


class PublishError(OrefError):
    """Publication could not be completed; the published warehouse is unchanged."""
