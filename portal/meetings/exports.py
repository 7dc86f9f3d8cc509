"""CSV (formula-safe) and PDF renderings of a table for the minutes (pure: rows in, bytes out)."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | None


def safe_cell(value: Cell) -> str:
    """A cell a spreadsheet shows as text: '=1+1' becomes "'=1+1" (CWE-1236)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def to_csv(headings: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with BOM and semicolons, as Dutch spreadsheet programs open it without asking."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_cell(heading) for heading in headings])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
)


@functools.cache
def _fonts() -> tuple[str, str]:
    """DejaVu Sans (Debian's fonts-dejavu-core: every European name) or ReportLab's bundled Vera."""
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).exists() and Path(bold).exists():
            pdfmetrics.registerFont(TTFont("LP-Sans", regular))
            pdfmetrics.registerFont(TTFont("LP-Sans-Bold", bold))
            return "LP-Sans", "LP-Sans-Bold"
    pdfmetrics.registerFont(TTFont("LP-Sans", "Vera.ttf"))
    pdfmetrics.registerFont(TTFont("LP-Sans-Bold", "VeraBd.ttf"))
    return "LP-Sans", "LP-Sans-Bold"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_pdf(
    *,
    title: str,
    lines: Sequence[str],
    headings: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    widths: Sequence[float] | None = None,
    footer: str = "",
) -> bytes:
    """A landscape A4 document: a title, a few lines of context, and one table repeating its header."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=title,
        author="Ledenportaal",
    )
    regular, bold = _fonts()
    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("lp-body", fontName=regular)
    cell_style = body.clone("lp-cell", fontSize=8, leading=10)
    head_style = body.clone("lp-head", fontSize=8, leading=10, fontName=bold)
    story: list[Flowable] = [Paragraph(_escape(title), styles["Title"].clone("lp-title", fontName=bold))]
    story += [Paragraph(_escape(line), body) for line in lines]
    story.append(Spacer(1, 4 * mm))
    data = [[Paragraph(_escape(heading), head_style) for heading in headings]]
    data += [
        [Paragraph(_escape("" if cell is None else str(cell)), cell_style) for cell in row] for row in rows
    ]
    usable = landscape(A4)[0] - 24 * mm
    column_widths = [usable * share for share in widths] if widths else None
    table = LongTable(data, colWidths=column_widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6f7ec")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9cdca")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)

    def draw_footer(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(regular, 7)
        canvas.drawString(12 * mm, 7 * mm, f"{footer} · {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=draw_footer, onLaterPages=draw_footer)
    return buffer.getvalue()
