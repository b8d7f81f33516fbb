"""The one error type for a request the product refuses: it carries an HTTP status, a stable error id, a message
and optional details, and nothing was changed. The API's middleware renders it as JSON; the CLI prints it."""

from __future__ import annotations

from typing import Any


class RefusedError(Exception):
    def __init__(self, status: int, error_id: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message
        self.details = details
