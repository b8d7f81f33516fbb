"""The contacts CSV: the header is checked, every row validated with its row number, hostile files refused, and
the contacts applied to the routing table whole or not at all."""

from __future__ import annotations

import pytest

from ntpd112.routing.contacts_csv import (
    MAX_CSV_BYTES,
    MAX_CSV_ROWS,
    ContactsCsvError,
    apply_contacts,
    parse_contacts,
)
from ntpd112.routing.defaults import default_table

HEADER = "type,agency,kecamatan,name,phone\n"
GOOD = (
    HEADER + "head,damkar,,Kepala Dinas Damkar,+6281100000001\n"
    "duty,damkar,,Piket Damkar 1,081100000003\n"
    "duty,damkar,,Piket Damkar 2,081100000004\n"
    "camat,,Pagedangan,Camat Pagedangan,081100000002\n"
)


def issues(data: bytes | str) -> list[str]:
    with pytest.raises(ContactsCsvError) as refused:
        parse_contacts(data)
    return [str(issue) for issue in refused.value.issues]


def test_heads_people_on_duty_and_camats_are_applied() -> None:
    table = apply_contacts(default_table(), parse_contacts(GOOD.encode()))
    damkar = table.agency("damkar")
    assert damkar is not None and damkar.head is not None and damkar.head.phone == "+6281100000001"
    assert [c.name for c in damkar.duty] == ["Piket Damkar 1", "Piket Damkar 2"]
    camat = table.camat("  pagedangan ")
    assert camat is not None and camat.contact.name == "Camat Pagedangan"


def test_a_spreadsheet_s_bom_semicolons_and_column_order_are_accepted() -> None:
    text = "\ufeffName;Phone;Type;Agency;Kecamatan\r\nCamat Legok;0811;camat;;Legok\r\n"
    [row] = parse_contacts(text.encode())
    assert (row.type, row.kecamatan, row.contact.name) == ("camat", "Legok", "Camat Legok")


def test_an_imported_camat_replaces_that_kecamatan_s_and_keeps_the_others() -> None:
    first = apply_contacts(default_table(), parse_contacts(HEADER + "camat,,Legok,A,0811\ncamat,,Cisauk,B,0812\n"))
    second = apply_contacts(first, parse_contacts(HEADER + "camat,,LEGOK,C,0813\n"))
    assert sorted((c.kecamatan, c.contact.name) for c in second.camats) == [("Cisauk", "B"), ("LEGOK", "C")]


def test_every_bad_row_is_listed_with_its_number() -> None:
    text = (
        HEADER + "head,damkar,,Kepala,+62811\n"
        "chief,damkar,,X,0811\n"  # 3: type
        "head,,,Nobody,0811\n"  # 4: agency missing
        "camat,damkar,Legok,Y,0811\n"  # 5: agency on a camat
        "camat,,Legok,Z,not-a-phone\n"  # 6: phone
        "head,damkar,,Again,0811\n"  # 7: the same head as row 2
        "head,pln\n"  # 8: cells
    )
    assert issues(text) == [
        "row 3 (type): must be head, duty or camat",
        "row 4 (agency): a head needs the agency id",
        "row 5 (agency): a camat belongs to a kecamatan, not an agency: leave it empty",
        "row 6 (phone): String should match pattern '^\\+?[0-9]{3,15}$'",
        "row 7: the same head as row 2",
        "row 8: 2 cells where the header has 5",
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "row 1: empty file"),
        (b"kind,agency,name\n", "row 1: the header must name type,agency,kecamatan,name,phone: missing"),
        (HEADER.encode(), "file: no contact rows after the header"),
        (HEADER.encode() + b"head,damkar,,Kepala\xff,0811\n", "file: not UTF-8 (byte"),
        (HEADER + "head,damkar,,Kepala \ufffd,0811\n", "file: not UTF-8"),
        (HEADER.encode() + b"head,damkar,,Ke\x00pala,0811\n", "file: the file contains NUL bytes"),
        (HEADER + 'head,damkar,,=HYPERLINK("http://x"),0811\n', "row 2 (name): starts like a spreadsheet formula"),
        (HEADER + "head,damkar,,@SUM(A1),0811\n", "row 2 (name): starts like a spreadsheet formula"),
        (HEADER + "head,damkar,,-2+3,0811\n", "row 2 (name): starts like a spreadsheet formula"),
        (HEADER + "head,damkar,,Kepala,+cmd|' /C calc'!A0\n", "row 2 (phone): starts like a spreadsheet formula"),
        (HEADER + 'head,damkar,,"unclosed,0811\n', "row 2: not valid CSV"),
        (HEADER + "head,damkar,,Kepala\x1bDinas,0811\n", "row 2 (name): String should match pattern"),
        (b"x" * (MAX_CSV_BYTES + 1), "file: the file is larger than"),
        (HEADER + "camat,,Legok,A,0811\n" * (MAX_CSV_ROWS + 1), f"file: more than {MAX_CSV_ROWS} rows"),
    ],
)
def test_hostile_and_broken_files_are_refused(data: bytes | str, expected: str) -> None:
    assert issues(data)[0].startswith(expected)


def test_an_agency_the_table_does_not_know_refuses_the_whole_file() -> None:
    rows = parse_contacts(HEADER + "head,damkar,,Kepala,0811\nhead,dinas-baru,,Kepala Baru,0812\n")
    with pytest.raises(ContactsCsvError) as refused:
        apply_contacts(default_table(), rows)
    assert [str(i) for i in refused.value.issues] == ["row 3 (agency): no agency 'dinas-baru' in the routing table"]
