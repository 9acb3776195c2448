"""The committee report as a Word document (python-docx), for committees that annotate and track changes.

Same sections, sentences and tables as the HTML and PDF (``core.report.document``), the same chart
PNGs as the PDF and the deck (``ReportContent.chart``); every paragraph and table cell is ordinary
editable Word text, and the sign-off table has empty cells to fill in.
"""
from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_BREAK
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

from core.report.charts import png_size
from core.report.content import ReportContent, headline
from core.report.document import H3, Bullets, Chart, Kpis, P, Table, document, meta_frame
from core.report.style import ORIGINAL_COLOUR

MAX_ROWS = 60  # as the PDF: long tables are cut with a note, the HTML has every row
_BLUE = RGBColor.from_string(ORIGINAL_COLOUR.lstrip("#"))
_GREY, _RED = RGBColor(0x55, 0x55, 0x55), RGBColor(0xC0, 0x39, 0x2B)
_TEXT_WIDTH_CM = 17.0


def _para(doc, text: str, style: str = "body") -> None:
    p = doc.add_paragraph()
    run = p.add_run(_XML_ILLEGAL.sub("", text))
    if style == "note":
        run.font.size, run.font.color.rgb, run.italic = Pt(8.5), _GREY, True
    elif style == "flag":
        run.bold, run.font.color.rgb = True, _RED
    elif style in ("lead", "takeaway"):
        run.bold = True


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: object) -> str:
    """Text as it may appear in OOXML: escaped, without the control characters XML forbids."""
    return escape(_XML_ILLEGAL.sub("", str(text)))


def _cell(text: object, bold: bool = False) -> str:
    rpr = f"<w:rPr>{'<w:b/>' if bold else ''}<w:sz w:val=\"15\"/></w:rPr>"
    return (f"<w:tc><w:tcPr><w:tcW w:w=\"0\" w:type=\"auto\"/></w:tcPr><w:p><w:pPr><w:spacing w:after=\"0\"/></w:pPr>"
            f"<w:r>{rpr}<w:t xml:space=\"preserve\">{_xml_text(text)}</w:t></w:r></w:p></w:tc>")


def _table(doc, frame, max_rows: int = MAX_ROWS, note: str = "") -> None:
    """A Word table (style "Table Grid", 7.5 pt) written as one OOXML fragment: python-docx's cell-by-cell API
    re-walks the table for every cell, which made long tables take seconds."""
    rows = frame.head(max_rows)
    ncols = max(frame.shape[1], 1)
    head = "<w:tr><w:trPr><w:tblHeader/></w:trPr>" + "".join(_cell(c, True) for c in frame.columns) + "</w:tr>"
    body = "".join("<w:tr>" + "".join(_cell(v) for v in values) + "</w:tr>" for values in rows.itertuples(index=False))
    grid = "".join("<w:gridCol/>" for _ in range(ncols))
    xml = (f"<w:tbl {nsdecls('w')}><w:tblPr><w:tblStyle w:val=\"{_table_style_id(doc)}\"/><w:tblW w:w=\"0\" w:type=\"auto\"/>"
           f"<w:tblLook w:val=\"04A0\"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{head}{body}</w:tbl>")
    body_el = doc.element.body
    body_el.find(qn("w:sectPr")).addprevious(parse_xml(xml))
    if len(frame) > max_rows:
        _para(doc, note or f"First {max_rows} of {len(frame):,} rows shown; the HTML report has all rows.", "note")
    doc.add_paragraph()


def _table_style_id(doc) -> str:
    return doc.styles["Table Grid"].style_id


def _picture(doc, png: bytes) -> None:
    w, h = png_size(png)
    width = _TEXT_WIDTH_CM
    if width * h / w > 20:
        width = 20 * w / h
    doc.add_picture(io.BytesIO(png), width=Cm(width))


def _blocks(doc, c: ReportContent, blocks) -> None:
    bullet = doc.styles["List Bullet"]  # a style object: looking a style up by name walks every style each time
    for b in blocks:
        if isinstance(b, P):
            _para(doc, b.text, b.style)
        elif isinstance(b, H3):
            doc.add_heading(b.text, level=2)
        elif isinstance(b, Bullets):
            for item in b.items:
                doc.add_paragraph(item, style=bullet)
        elif isinstance(b, Table):
            limit = b.max_rows or MAX_ROWS
            _table(doc, b.frame, limit, replace(b, max_rows=limit).cut_note())
        elif isinstance(b, Kpis):
            import pandas as pd

            _table(doc, pd.DataFrame(list(b.items), columns=["Indicator", "Value", "Detail"]))
        elif isinstance(b, Chart):
            _picture(doc, c.chart(b.name))
            _para(doc, b.takeaway, "takeaway")
        else:
            raise TypeError(type(b).__name__)


def render_docx(c: ReportContent) -> bytes:
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)  # A4, as the PDF
    sec.left_margin = sec.right_margin = Cm(2.0)
    sec.top_margin = sec.bottom_margin = Cm(1.8)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "Calibri", Pt(10)
    for level in (0, 1, 2):
        doc.styles["Title" if level == 0 else f"Heading {level}"].font.color.rgb = _BLUE
    props = doc.core_properties
    props.title, props.author, props.subject = c.title, "RiskPrune", "Validation pack: pruning a credit-risk model"
    try:
        created = datetime.fromisoformat(c.created_utc)
        props.created = props.modified = created
    except ValueError:
        pass

    doc.add_heading(c.title, level=0)
    _para(doc, "Validation pack: pruning a credit-risk model", "lead")
    _table(doc, meta_frame(c))
    for label, text in headline(c):
        _para(doc, f"{label}: {text}")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    for i, s in enumerate(document(c), 1):
        doc.add_heading(f"{i}. {s.title}", level=1)
        _blocks(doc, c, s.blocks)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def docx_bytes(c: ReportContent) -> bytes:
    return render_docx(c)
