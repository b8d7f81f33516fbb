"""Escalation contacts from a CSV file: agency heads, people on duty, camats per kecamatan (pure, no I/O).

The format (docs/TICKETS.md): a header `type,agency,kecamatan,name,phone` (any order, any case; `,` or `;` as
separator, as spreadsheets in an Indonesian locale write it), then one contact per row:

* `head`: the head of `agency` (replaces the one set);
* `duty`: someone on duty at `agency` (the rows of an agency replace its list of people on duty);
* `camat`: the camat of `kecamatan` (replaces the one set for that kecamatan; others are kept).

A file is taken whole or refused whole: every problem is listed with its row number (the header is row 1).
Hostile files are refused, not cleaned up: no NUL, valid UTF-8 only, a size and row limit, and no cell that a
spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or carriage return first; a phone's leading `+` is
fine, the phone pattern allows nothing after it but digits).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from ntpd112.routing.agencies import Contact
from ntpd112.routing.tables import AreaRef, Camat, RoutingTable
from ntpd112.routing.validation import load_table

__all__ = [
    "COLUMNS",
    "MAX_CSV_BYTES",
    "MAX_CSV_ROWS",
    "ContactRow",
    "ContactsCsvError",
    "CsvIssue",
    "apply_contacts",
    "parse_contacts",
]

COLUMNS = ("type", "agency", "kecamatan", "name", "phone")
MAX_CSV_BYTES = 200_000
MAX_CSV_ROWS = 2_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ContactType = Literal["head", "duty", "camat"]


@dataclass(frozen=True)
class CsvIssue:
    row: int  # 1 is the header; 0 for the file as a whole
    column: str  # "" for the whole row
    message: str

    def __str__(self) -> str:
        where = "file" if self.row == 0 else f"row {self.row}"
        return f"{where}{f' ({self.column})' if self.column else ''}: {self.message}"


class ContactsCsvError(ValueError):
    """A contacts file was refused; `issues` lists every problem. Nothing is applied."""

    def __init__(self, issues: Sequence[CsvIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("invalid contacts file:\n" + "\n".join(f"  {issue}" for issue in self.issues))


@dataclass(frozen=True)
class ContactRow:
    row: int
    type: ContactType
    agency: str | None
    kecamatan: str | None
    contact: Contact


class _Row(BaseModel):
    """One row's values, checked by the same types as the routing table's."""

    contact: Contact
    kecamatan: AreaRef | None = None


def _text(data: bytes | str) -> str:
    if isinstance(data, bytes):
        if len(data) > MAX_CSV_BYTES:
            raise ContactsCsvError([CsvIssue(0, "", f"the file is larger than {MAX_CSV_BYTES} bytes")])
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ContactsCsvError(
                [CsvIssue(0, "", f"not UTF-8 (byte {error.start}); save the file as CSV UTF-8")]
            ) from None
    elif len(data.encode("utf-8", "surrogatepass")) > MAX_CSV_BYTES:
        raise ContactsCsvError([CsvIssue(0, "", f"the file is larger than {MAX_CSV_BYTES} bytes")])
    # A browser decodes a file that is not UTF-8 with replacement characters; a lone surrogate is no text either.
    if "\ufffd" in data or any("\ud800" <= ch <= "\udfff" for ch in data):
        raise ContactsCsvError([CsvIssue(0, "", "not UTF-8; save the file as CSV UTF-8")])
    if "\x00" in data:
        raise ContactsCsvError([CsvIssue(0, "", "the file contains NUL bytes: it is no CSV text")])
    return data.removeprefix("\ufeff")  # the BOM spreadsheets put first


def _header(first_line: str) -> tuple[str, list[str]]:
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    names = [name.strip().casefold() for name in next(csv.reader([first_line], delimiter=delimiter), [])]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    if missing or unknown or len(set(names)) != len(names):
        problem = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(repr(u[:20]) for u in unknown)}" if unknown else "",
                "a column is repeated" if len(set(names)) != len(names) else "",
            )
            if part
        )
        raise ContactsCsvError([CsvIssue(1, "", f"the header must name {','.join(COLUMNS)}: {problem}")])
    return delimiter, names


def _check_row(number: int, values: dict[str, str]) -> tuple[ContactRow | None, list[CsvIssue]]:
    issues = [
        CsvIssue(number, column, "starts like a spreadsheet formula (=, +, -, @): refused")
        for column, value in values.items()
        if value.startswith(_FORMULA_STARTS) and not (column == "phone" and value[1:].isdigit())
    ]
    kind = values["type"].casefold()
    if kind not in ("head", "duty", "camat"):
        issues.append(CsvIssue(number, "type", "must be head, duty or camat"))
        return None, issues
    agency, kecamatan = values["agency"] or None, values["kecamatan"] or None
    if kind == "camat":
        if kecamatan is None:
            issues.append(CsvIssue(number, "kecamatan", "a camat needs the kecamatan"))
        if agency is not None:
            issues.append(CsvIssue(number, "agency", "a camat belongs to a kecamatan, not an agency: leave it empty"))
    else:
        if agency is None:
            issues.append(CsvIssue(number, "agency", f"a {kind} needs the agency id"))
        if kecamatan is not None:
            issues.append(CsvIssue(number, "kecamatan", f"a {kind} belongs to an agency: leave it empty"))
    try:
        checked = _Row.model_validate(
            {"contact": {"name": values["name"], "phone": values["phone"]}, "kecamatan": kecamatan}
        )
    except ValidationError as error:
        for e in error.errors(include_url=False):
            column = str(e["loc"][-1]) if e["loc"] else ""
            issues.append(CsvIssue(number, column, e["msg"]))
        return None, issues
    if issues:
        return None, issues
    return ContactRow(number, kind, agency, kecamatan, checked.contact), []  # type: ignore[arg-type]


def _duplicates(rows: Iterable[ContactRow]) -> list[CsvIssue]:
    first: dict[tuple[str, str], int] = {}
    issues = []
    for row in rows:
        if row.type == "duty":
            continue
        key = (row.type, (row.agency or row.kecamatan or "").casefold())
        if key in first:
            issues.append(CsvIssue(row.row, "", f"the same {row.type} as row {first[key]}"))
        first.setdefault(key, row.row)
    return issues


def parse_contacts(data: bytes | str) -> list[ContactRow]:
    """Every contact of the file; raises ContactsCsvError listing every problem found."""
    text = _text(data)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ContactsCsvError([CsvIssue(1, "", f"empty file: the first line is the header {','.join(COLUMNS)}")])
    delimiter, names = _header(lines[0])
    rows: list[ContactRow] = []
    issues: list[CsvIssue] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    count = 0
    try:
        next(reader)  # the header, checked above
        for cells in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > MAX_CSV_ROWS:
                raise ContactsCsvError([CsvIssue(0, "", f"more than {MAX_CSV_ROWS} rows")])
            if len(cells) != len(names):
                issues.append(CsvIssue(number, "", f"{len(cells)} cells where the header has {len(names)}"))
                continue
            row, problems = _check_row(number, {n: c.strip() for n, c in zip(names, cells, strict=True)})
            issues += problems
            if row is not None:
                rows.append(row)
    except csv.Error as error:
        issues.append(CsvIssue(reader.line_num, "", f"not valid CSV: {error}"))
    issues += _duplicates(rows)
    if issues:
        raise ContactsCsvError(sorted(issues, key=lambda issue: issue.row))
    if not rows:
        raise ContactsCsvError([CsvIssue(0, "", "no contact rows after the header")])
    return rows


def apply_contacts(table: RoutingTable, rows: Sequence[ContactRow]) -> RoutingTable:
    """`table` with the contacts of `rows`; raises ContactsCsvError for an agency the table does not know."""
    known = {a.id for a in table.agencies}
    unknown = [
        CsvIssue(r.row, "agency", f"no agency {r.agency!r} in the routing table")
        for r in rows
        if r.agency is not None and r.agency not in known
    ]
    if unknown:
        raise ContactsCsvError(unknown)
    raw: dict[str, Any] = table.model_dump(mode="json")
    heads = {r.agency: r.contact for r in rows if r.type == "head"}
    duty: dict[str, list[Contact]] = {}
    for r in rows:
        if r.type == "duty" and r.agency is not None:
            duty.setdefault(r.agency, []).append(r.contact)
    for agency in raw["agencies"]:
        if agency["id"] in heads:
            agency["head"] = heads[agency["id"]].model_dump(mode="json")
        if agency["id"] in duty:
            agency["duty"] = [c.model_dump(mode="json") for c in duty[agency["id"]]]
    camats = [Camat(kecamatan=r.kecamatan, contact=r.contact) for r in rows if r.type == "camat" and r.kecamatan]
    # A kecamatan in the file replaces its camat wherever it stood (matched as the table matches areas).
    replaced = [c for c in table.camats if not any(c.serves(new.kecamatan) for new in camats)]
    raw["camats"] = [c.model_dump(mode="json") for c in (*replaced, *camats)]
    return load_table(raw)
