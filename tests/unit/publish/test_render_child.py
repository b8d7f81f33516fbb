"""The report worker's side of its protocol (publish/render_child.py), over in-memory streams: replies in the order
of the requests, a file that cannot be built is a reply with the error, and the next request is served."""

from __future__ import annotations

import io
from pathlib import Path

from ntpd112.publish.render_child import serve
from ntpd112.publish.report_files import FileFormat, RenderReply, RenderRequest
from ntpd112.reports.files import to_json
from tests.unit.reports.test_export import sample


def request(file_format: FileFormat, logo: Path | None = None) -> bytes:
    body = to_json(sample())
    head = RenderRequest(format=file_format, logo=logo, length=len(body))
    return head.model_dump_json().encode("utf-8") + b"\n" + body


def replies(stream: bytes) -> list[tuple[RenderReply, bytes]]:
    reader, found = io.BytesIO(stream), []
    while line := reader.readline():
        reply = RenderReply.model_validate_json(line)
        found.append((reply, reader.read(reply.length)))
    return found


def test_each_request_gets_its_reply_and_a_failure_does_not_end_the_worker(tmp_path: Path) -> None:
    out = io.BytesIO()
    serve(io.BytesIO(request("xlsx") + request("pdf", tmp_path / "missing.png") + request("pdf")), out)
    (xlsx, xlsx_file), (failed, nothing), (pdf, pdf_file) = replies(out.getvalue())
    assert xlsx.error is None and xlsx_file.startswith(b"PK") and xlsx.length == len(xlsx_file)
    assert failed.error is not None and failed.error.startswith("FileNotFoundError") and nothing == b""
    assert pdf.error is None and pdf_file.startswith(b"%PDF-")
