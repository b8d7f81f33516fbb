"""`ntpd112` subcommands as an admin runs them, invoked in this process against a test database.

A new interpreter per command costs about a second of imports; the tests that use this helper are about what the
commands do, so they run the click group in-process (click's CliRunner). The runner works in a worker thread: each
command runs its own asyncio loop, and the service under test keeps running on the test's loop meanwhile.
tests/integration/test_dispatch_cli.py runs the installed entry point as its own process.
"""

from __future__ import annotations

import asyncio
import traceback
from dataclasses import dataclass

from click.testing import CliRunner

from ntpd112.cli import main
from ntpd112.logs import configure_logging


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


async def ntpd112(database_url: str, *args: str, stdin: str = "") -> Run:
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, main, list(args), input=stdin, env={"NTPD112_DATABASE_URL": database_url}, catch_exceptions=True
    )
    # Each command configures logging to its own (captured) stderr: give the service under test its own back.
    configure_logging("json", "debug")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # A process would print the traceback and exit 1; keep the traceback in the text a test shows on failure.
        return Run(1, result.stdout, result.stderr + "".join(traceback.format_exception(result.exception)))
    return Run(result.exit_code, result.stdout, result.stderr)
