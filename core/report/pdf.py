"""The committee report as PDF: reportlab (pure Python) for layout, the shared matplotlib PNGs for charts.

Both libraries are pip wheels with no system dependencies, so the PDF builds on any machine the
README's launch command sets up. Text uses the DejaVu Sans font shipped inside matplotlib,
because the PDF base fonts lack glyphs such as Δ, →, ≥ and ρ that the report prints. The sections
are ``core.report.document``'s, the same the HTML and the DOCX print; charts are the PNG bytes of
``ReportContent.chart``, the same the deck and the DOCX embed.
"""
from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
import pandas as pd
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import CondPageBreak, Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.report.charts import png_size
from core.report.content import ReportContent, headline
from core.report.document import H3, Bullets, Chart, Kpis, P, document, meta_frame
from core.report.document import Table as DocTable
from core.report.style import ORIGINAL_COLOUR

_FONT, _FONT_BOLD = "Helvetica", "Helvetica-Bold"
# Image streams stay binary (Flate only): ASCII85 text encoding of the chart PNGs runs in pure Python here
# (reportlab's C accelerator is not installed) and made the PDF 25 % larger for no reader's benefit.
rl_config.useA85 = 0


def _register_fonts() -> tuple[str, str]:
    global _FONT, _FONT_BOLD
    if _FONT == "RPSans":
        return _FONT, _FONT_BOLD
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    try:
        pdfmetrics.registerFont(TTFont("RPSans", str(ttf / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("RPSans-Bold", str(ttf / "DejaVuSans-Bold.ttf")))
        _FONT, _FONT_BOLD = "RPSans", "RPSans-Bold"
    except Exception:  # font missing: fall back to the base fonts (some symbols show as boxes)
        pass
    return _FONT, _FONT_BOLD


def _styles() -> dict[str, ParagraphStyle]:
    font, bold = _register_fonts()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontName=bold, fontSize=24, leading=30, textColor=colors.HexColor(ORIGINAL_COLOUR)),
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontName=bold, fontSize=16, textColor=colors.HexColor(ORIGINAL_COLOUR),
                             spaceBefore=10, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=12, keepWithNext=1),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontName=font, fontSize=9.5, leading=12.5),
        "small": ParagraphStyle("s", parent=base["BodyText"], fontName=font, fontSize=8, leading=10, textColor=colors.HexColor("#555555")),
        "cell": ParagraphStyle("c", parent=base["BodyText"], fontName=font, fontSize=7.5, leading=9),
        "lead": ParagraphStyle("l", parent=base["BodyText"], fontName=bold, fontSize=9.5, leading=12.5),
        "flag": ParagraphStyle("f", parent=base["BodyText"], fontName=bold, fontSize=9.5, leading=12.5,
                               textColor=colors.HexColor("#c0392b")),
        "takeaway": ParagraphStyle("tk", parent=base["BodyText"], fontName=bold, fontSize=8.5, leading=11, spaceAfter=6),
        "head": ParagraphStyle("hd", parent=base["BodyText"], fontName=bold, fontSize=7.5, leading=9),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)), style)


_PAGE_WIDTH = A4[0] - 3.6 * cm  # inside the margins
_MAX_COLS = 8


def _table(frame: pd.DataFrame, st: dict, widths: list[float] | None = None, max_rows: int = 60):
    """A table that always fits the page: wide frames are split into column blocks (first column repeated)."""
    frame = frame.head(max_rows)
    if frame.shape[1] > _MAX_COLS:
        blocks, first, rest = [], frame.columns[0], list(frame.columns[1:])
        for i in range(0, len(rest), _MAX_COLS - 1):
            blocks.append(_table(frame[[first, *rest[i:i + _MAX_COLS - 1]]], st, None, max_rows))
            blocks.append(Spacer(1, 0.15 * cm))
        return KeepTogether(blocks) if len(frame) < 12 else _Blocks(blocks)
    if widths is None or sum(widths) > _PAGE_WIDTH:
        widths = [_PAGE_WIDTH / max(frame.shape[1], 1)] * frame.shape[1] if frame.shape[1] > 4 else None
    data = [[_p(c, st["head"]) for c in frame.columns]]
    data += [[_p(v, st["cell"]) for v in row] for row in frame.itertuples(index=False)]
    t = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbcc")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return t


class _Blocks(list):
    """Marker: several flowables to be added in sequence (see ``_flat``)."""


def _flat(story: list) -> list:
    out = []
    for item in story:
        out.extend(_flat(item) if isinstance(item, _Blocks) else [item])
    return out


def _png(data: bytes, width: float = 16 * cm) -> Image:
    w, h = png_size(data)
    height = width * h / w
    if height > 20 * cm:  # a tall chart (many features or segments) keeps its proportions within a page
        width, height = width * 20 * cm / height, 20 * cm
    return Image(io.BytesIO(data), width=width, height=height)


# --------------------------------------------------------------------------- document


def _blocks(c: ReportContent, blocks, st: dict) -> list:
    out: list = []
    for b in blocks:
        if isinstance(b, P):
            style = {"note": "small", "flag": "flag", "lead": "lead"}.get(b.style, "body")
            out.append(_p(b.text, st[style]))
        elif isinstance(b, H3):
            out.append(_p(b.text, st["h2"]))
        elif isinstance(b, Bullets):
            out += [_p(f"• {t}", st["body"]) for t in b.items]
        elif isinstance(b, DocTable):
            limit = b.max_rows or 60
            widths = None
            if b.widths is not None and len(b.widths) == b.frame.shape[1]:
                total = sum(b.widths)
                widths = [_PAGE_WIDTH * w / total for w in b.widths]
            out.append(_table(b.frame, st, widths, max_rows=limit))
            if len(b.frame) > limit:
                out.append(_p(replace(b, max_rows=limit).cut_note(), st["small"]))
            out.append(Spacer(1, 0.2 * cm))
        elif isinstance(b, Kpis):
            kpi = pd.DataFrame(list(b.items), columns=["Indicator", "Value", "Detail"])
            out += [_table(kpi, st, [4.5 * cm, 3.5 * cm, 8.5 * cm]), Spacer(1, 0.2 * cm)]
        elif isinstance(b, Chart):
            out += [CondPageBreak(6 * cm), _png(c.chart(b.name)), _p(b.takeaway, st["takeaway"])]
        else:
            raise TypeError(type(b).__name__)
    return out


def render_pdf(c: ReportContent) -> bytes:
    st = _styles()
    story: list = []
    story += [Spacer(1, 3 * cm), _p(c.title, st["title"]), Spacer(1, 0.6 * cm),
              _p("Validation pack: pruning a credit-risk model", st["h2"]), Spacer(1, 0.8 * cm)]
    story += [_table(meta_frame(c), st, [4.5 * cm, 12 * cm]), Spacer(1, 0.8 * cm)]
    for label, text in headline(c):
        story.append(_p(f"{label}: {text}", st["body"]))
    story.append(PageBreak())
    for i, s in enumerate(document(c), 1):
        story.append(_p(f"{i}. {s.title}", st["h1"]))
        story += _blocks(c, s.blocks, st)

    buf = io.BytesIO()
    font = _register_fonts()[0]

    def _footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(1.5 * cm, 1 * cm, f"RiskPrune — {c.model_name} — {c.created_utc}")
        canvas.drawRightString(A4[0] - 1.5 * cm, 1 * cm, f"page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=1.8 * cm, rightMargin=1.8 * cm, topMargin=1.5 * cm,
                            bottomMargin=1.6 * cm, title=c.title, author="RiskPrune", subject="Pruning proposal",
                            invariant=1)
    doc.build(_flat(story), onFirstPage=_footer, onLaterPages=_footer)
    return buf.getvalue()
