"""Exports never hand a spreadsheet a formula (security plan E4)."""

import io
import zipfile

import pytest

from portal.members.spreadsheets import cell_text, csv_bytes, xlsx_bytes

PAYLOADS = ['=HYPERLINK("http://x","y")', "+31612345678", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "=1+1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_starts_get_a_quote(payload: str) -> None:
    assert cell_text(payload) == "'" + payload


def test_plain_values() -> None:
    assert cell_text("Jansen") == "Jansen"
    assert cell_text(None) == ""
    assert cell_text(True) == "yes"
    assert cell_text(["a", "=b"]) == "a; =b"
    assert cell_text(["=a", "b"]) == "'=a; b"


def test_csv_quotes_everything_and_escapes() -> None:
    text = csv_bytes(["name"], [[payload] for payload in PAYLOADS]).decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == '"name"'
    for line in lines[1:-1]:
        assert line.startswith("\"'")


def test_xlsx_cells_are_text_never_formulas() -> None:
    data = xlsx_bytes(["name"], [[payload] for payload in PAYLOADS])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet
    assert "'=HYPERLINK" in strings
