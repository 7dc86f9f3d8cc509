"""CSV and XLSX files of member data that no spreadsheet can run as a formula (pure)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import xlsxwriter

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "|", "%")


def cell_text(value: object) -> str:
    """A cell's text: dates ISO, lists joined, booleans yes/no, and a leading `'` before a formula start."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    elif isinstance(value, list | tuple | set | frozenset):
        text = "; ".join(cell_text(item).lstrip("'") for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """RFC 4180 CSV in UTF-8 with a byte-order mark (Excel reads the accents right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([cell_text(header) for header in headers])
    for row in rows:
        writer.writerow([cell_text(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str = "Export") -> bytes:
    """An XLSX workbook with every cell written as text (never as a formula or a link)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    for column, header in enumerate(headers):
        worksheet.write_string(0, column, cell_text(header), bold)
    for row_number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            worksheet.write_string(row_number, column, cell_text(value))
    worksheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
