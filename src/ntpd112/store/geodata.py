"""Bulk loads of reference data: the OpenCellID cell table and the administrative area boundaries."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from ntpd112.intake.areas import AdminArea
from ntpd112.intake.cells import CellKey, CellRecord, parse_cell_line
from ntpd112.intake.errors import IntakeParseError
from ntpd112.store.db import Database
from ntpd112.store.models import AdminAreaRow, CellTower

# 14 columns per row: 2,000 rows stay well below PostgreSQL's 32,767 bind parameters per statement.
CELL_BATCH = 2_000
AREA_BATCH = 2_000

BadRow = Callable[[int, IntakeParseError], None]


@dataclass
class CellImportReport:
    loaded: int = 0
    skipped: int = 0


async def import_cells(database: Database, lines: Iterable[str], on_bad_row: BadRow) -> CellImportReport:
    """Stream OpenCellID CSV lines into the cell table (upsert by cell key), batch by batch.

    A bad row is reported with its 1-based line number and skipped; the header line and blank lines are ignored.
    Memory stays flat whatever the file size: only one batch is held.
    """
    report = CellImportReport()
    batch: dict[CellKey, CellRecord] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = parse_cell_line(line)
        except IntakeParseError as error:
            if error.code != "header":
                report.skipped += 1
                on_bad_row(number, error)
            continue
        # A key repeated within one statement would make ON CONFLICT fail; the later row wins, as across batches.
        batch[record.key] = record
        if len(batch) >= CELL_BATCH:
            report.loaded += await _upsert_cells(database, list(batch.values()))
            batch.clear()
    if batch:
        report.loaded += await _upsert_cells(database, list(batch.values()))
    return report


async def _upsert_cells(database: Database, records: list[CellRecord]) -> int:
    statement = insert(CellTower).values([record.model_dump() for record in records])
    key = ["radio", "mcc", "mnc", "area_code", "cell_id"]
    columns = {c.name: statement.excluded[c.name] for c in CellTower.__table__.columns if c.name not in key}
    async with database.engine.begin() as connection:
        await connection.execute(statement.on_conflict_do_update(index_elements=key, set_=columns))
    return len(records)


async def import_areas(database: Database, areas: list[tuple[AdminArea, object]], replace: bool) -> int:
    """Store parsed areas with their GeoJSON geometry, in one transaction; `replace` drops the areas stored before."""
    async with database.engine.begin() as connection:
        if replace:
            await connection.execute(delete(AdminAreaRow))
        for start in range(0, len(areas), AREA_BATCH):
            await connection.execute(
                insert(AdminAreaRow).values(
                    [
                        {
                            "code": area.code,
                            "kabupaten": area.kabupaten,
                            "kecamatan": area.kecamatan,
                            "kelurahan": area.kelurahan,
                            "geometry": geometry,
                            "min_lon": area.bbox[0],
                            "min_lat": area.bbox[1],
                            "max_lon": area.bbox[2],
                            "max_lat": area.bbox[3],
                        }
                        for area, geometry in areas[start : start + AREA_BATCH]
                    ]
                )
            )
    return len(areas)
