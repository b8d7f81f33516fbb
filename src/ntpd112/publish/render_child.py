"""`python -m ntpd112.publish.render_child FORMAT [--logo PATH]`: the report (JSON) on standard input, the file on
standard output. Started by publish/report_files.py for the XLSX and the PDF, so that the file libraries and their
CPU stay out of the service that carries the calls."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ntpd112.reports.export import render
from ntpd112.reports.rules import Report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="render_child")
    parser.add_argument("format", choices=["xlsx", "pdf"])
    parser.add_argument("--logo", type=Path)
    args = parser.parse_args(argv)
    report = Report.model_validate_json(sys.stdin.buffer.read())
    sys.stdout.buffer.write(render(report, args.format, args.logo))


if __name__ == "__main__":
    main()
