"""`ntpd112 cells import` and `ntpd112 areas import`: the reference data intake locates calls with; and how
`calls show` prints a call's location and history."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ntpd112.cli.common import cli_settings, fail, with_database
from ntpd112.intake.areas import AdminArea, parse_feature_collection
from ntpd112.intake.errors import IntakeParseError
from ntpd112.store.db import Database
from ntpd112.store.geodata import import_areas, import_cells
from ntpd112.store.repo import CallDetail


def echo_location_and_history(call: CallDetail) -> None:
    best = call.best_location
    if best is None:
        click.echo(f"{'best location':20} -")
    else:
        radius = f"{best.radius_m:.0f} m" if best.radius_m is not None else "accuracy unknown"
        click.echo(f"{'best location':20} {best.lat:.6f}, {best.lon:.6f} ({radius}, {best.source})")
    area = call.area
    names = [area.kelurahan, area.kecamatan, area.kabupaten] if area else []
    area_text = ", ".join(name for name in names if name) + (f" [{area.code}]" if area and area.code else "")
    click.echo(f"{'area':20} {area_text or '-'}")
    click.echo("fixes:")
    for fix in call.fixes:
        where = f"{fix.lat:.6f}, {fix.lon:.6f} r={fix.radius_m}" if fix.lat is not None else "no position"
        cell = f" cell {fix.radio} {fix.mcc}-{fix.mnc}-{fix.area_code}-{fix.cell_id}" if fix.radio else ""
        click.echo(
            f"  {fix.received_at.isoformat(timespec='seconds')}  {fix.source:5} {where}{cell} {fix.method or ''}"
        )
    history = call.history
    click.echo(
        f"history:             repeat caller {history.repeat_caller if history.repeat_caller is not None else '-'},"
        f" {history.calls_24h if history.calls_24h is not None else '-'} calls in 24 h,"
        f" {history.calls_30d if history.calls_30d is not None else '-'} in 30 days"
    )
    for previous in history.previous_calls:
        offered = previous.offered_at.isoformat(timespec="seconds") if previous.offered_at else "-"
        outcome = previous.incident_category or ("answered" if previous.answered_at else "not answered")
        extra = f" {previous.incident_status}" if previous.incident_status else ""
        callback = f" callback {previous.callback_status}" if previous.callback_status else ""
        click.echo(f"  {offered}  {outcome}{extra}{callback}  {previous.id}")


@click.group(help="The cell table (OpenCellID) that locates callers by their serving cell.")
def cells() -> None:
    pass


@cells.command("import", help="Load an OpenCellID CSV (cell_towers.csv); bad rows are reported and skipped.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def cells_import(file: Path) -> None:
    def bad_row(line: int, error: IntakeParseError) -> None:
        click.echo(f"{file}:{line}: skipped: {error.code}: {error.message}", err=True)

    async def load(database: Database) -> tuple[int, int]:
        # newline="" keeps line numbers equal to the file's: CSV may end lines with CRLF.
        with file.open(encoding="utf-8", errors="replace", newline="") as lines:
            report = await import_cells(database, lines, bad_row)
        return report.loaded, report.skipped

    loaded, skipped = with_database(cli_settings(), load)
    click.echo(f"{loaded} cells loaded, {skipped} rows skipped")


@click.group(help="Administrative areas (kecamatan, kelurahan/desa) that calls are located in.")
def areas() -> None:
    pass


@areas.command("import", help="Load area boundaries from a GeoJSON FeatureCollection; refused whole if invalid.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--append", is_flag=True, help="Keep the areas stored before (default: replace them).")
def areas_import(file: Path, append: bool) -> None:
    text = file.read_bytes()
    try:
        parsed = parse_feature_collection(text)
    except IntakeParseError as error:
        fail(f"{file}: nothing imported: {error.code}: {error.message}", 1)
        return
    # parse_feature_collection keeps the order of the features: pair each area with its geometry to store it.
    geometries = [feature["geometry"] for feature in json.loads(text)["features"]]
    pairs: list[tuple[AdminArea, object]] = list(zip(parsed, geometries, strict=True))
    count = with_database(cli_settings(), lambda database: import_areas(database, pairs, replace=not append))
    click.echo(f"{count} areas imported")
