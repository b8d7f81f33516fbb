"""`python -m ntpd112.publish.render_child`: the worker that builds the XLSX and the PDF for publish/report_files.py,
so that the file libraries and their CPU stay out of the service that carries the calls.

It serves one request after another until its standard input closes. A request is a line of JSON (RenderRequest,
publish/report_files.py) followed by that many bytes of the report (JSON); the reply a line of JSON (RenderReply)
followed by that many bytes of the file. A file that cannot be built is a reply with the error; the worker goes on.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import BinaryIO

from ntpd112.publish.report_files import RenderReply, RenderRequest
from ntpd112.reports.export import render
from ntpd112.reports.rules import Report

# A Linux quirk: where the kernel groups processes by session for the scheduler (autogroup; a service started from a
# shell), `nice` only ranks processes inside their group, and the groups share the CPU equally: the worker, in its
# own session (the parent starts it so), lowers its group's share to the least.
_AUTOGROUP = Path("/proc/self/autogroup")
_LOWEST_PRIORITY = 19


def _lower_group_priority() -> None:
    # No autogroup here (a kernel without it, or a cgroup of its own): `nice` alone ranks the worker.
    with contextlib.suppress(OSError):
        _AUTOGROUP.write_text(f"{_LOWEST_PRIORITY}\n")


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    for line in iter(requests.readline, b""):
        request = RenderRequest.model_validate_json(line)
        report = requests.read(request.length)
        try:
            content = render(Report.model_validate_json(report), request.format, request.logo)
            reply = RenderReply(length=len(content))
        except Exception as error:  # any failure of one file is that file's reply; the worker serves the next
            content, reply = b"", RenderReply(length=0, error=f"{type(error).__name__}: {error}")
        replies.write(reply.model_dump_json().encode("utf-8") + b"\n" + content)
        replies.flush()


if __name__ == "__main__":
    _lower_group_priority()
    serve(sys.stdin.buffer, sys.stdout.buffer)
