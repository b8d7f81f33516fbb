"""structlog set-up: JSON lines when not on a terminal, readable output on a terminal.

Code that works on a call binds `call_id` (see `call_logger`) so every line about a call carries it.
"""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

_SECRET_KEYS = ("password", "secret", "token", "authorization")


@functools.cache
def _names_a_secret(key: str) -> bool:
    # Cached: log lines use a few dozen keys, and this ran for every key of every line (issue 12's profile).
    return any(marker in key.lower() for marker in _SECRET_KEYS)


def _redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: a key that names a secret never reaches the output with its value."""
    for key in event_dict:
        if _names_a_secret(key):
            event_dict[key] = "***"
    return event_dict


def _json_line(value: Any, **options: Any) -> str:
    """structlog's JSON serializer, with orjson: a line per call event adds up under load (issue 12's profile)."""
    return orjson.dumps(value, default=options.get("default"), option=orjson.OPT_NON_STR_KEYS).decode()


def configure_logging(log_format: str = "auto", level: str = "info") -> None:
    as_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json_line) if as_json else structlog.dev.ConsoleRenderer()
    )
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_secrets,
            render_exception,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries (aiohttp, panoramisk, alembic) log through stdlib logging; keep them at warning and above.
    logging.basicConfig(level=max(numeric_level, logging.WARNING), stream=sys.stderr, format="%(name)s %(message)s")


# Exceptions of these libraries quote the values they were given (statement parameters, refused input): caller
# numbers, AML text, locations. Their text never reaches a log; their type and frames do.
_VALUE_QUOTING_LIBRARIES = ("sqlalchemy", "asyncpg", "pydantic", "pydantic_core")


def _quotes_values(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] in _VALUE_QUOTING_LIBRARIES


def traceback_without_values(error: BaseException, keep_message: bool = False) -> list[str]:
    """Where an error came from (type, then file:line in function, for the error and its causes) without local
    values, and without exception text unless `keep_message` (never for the libraries that quote values)."""
    lines: list[str] = []
    current: BaseException | None = error
    while current is not None and len(lines) < 200:
        # Below an error that quotes values, its causes were given the same values: no text from there on.
        keep_message = keep_message and not _quotes_values(current)
        name = type(current).__module__ + "." + type(current).__qualname__
        lines.append(f"{name}: {current}" if keep_message else name)
        lines.extend(
            f"  {frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(current.__traceback__)
        )
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return lines


def render_exception(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replaces structlog's traceback rendering: frames and types, and text only where it cannot carry values."""
    exc_info = event_dict.pop("exc_info", None)
    error = exc_info if isinstance(exc_info, BaseException) else None
    if isinstance(exc_info, tuple):
        error = exc_info[1]
    elif exc_info is True:
        error = sys.exc_info()[1]
    if error is not None:
        event_dict["exception"] = "\n".join(traceback_without_values(error, keep_message=True))
    return event_dict


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


def call_logger(name: str, call_id: str, **context: Any) -> structlog.stdlib.BoundLogger:
    return get_logger(name).bind(call_id=call_id, **context)
