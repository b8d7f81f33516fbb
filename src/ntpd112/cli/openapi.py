"""`ntpd112 openapi`: the API's OpenAPI document, written without starting anything.

The console's typed client is generated from the copy in webapp/src/api/openapi.json (a unit test fails when that
copy is stale): `ntpd112 openapi webapp/src/api/openapi.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ntpd112.web.app import api_document


def document_text() -> str:
    return json.dumps(api_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@click.command(help="Write the API's OpenAPI document (to FILE, or standard output).")
@click.argument("file", required=False, type=click.Path(dir_okay=False, writable=True, path_type=Path))
def openapi(file: Path | None) -> None:
    if file is None:
        click.echo(document_text(), nl=False)
    else:
        file.write_text(document_text(), encoding="utf-8")
