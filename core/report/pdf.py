"""The committee report as PDF: reportlab (pure Python) for layout, matplotlib (Agg) for charts.

Both libraries are pip wheels with no system dependencies, so the PDF builds on any machine the
README's launch command sets up. Text uses the DejaVu Sans font shipped inside matplotlib,
because the PDF base fonts lack glyphs such as Δ, →, ≥ and ρ that the report prints.
"""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit; must precede pyplot
from xml.sax.saxutils import escape  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from reportlab.lib import colors  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet  # noqa: E402
from reportlab.lib.units import cm  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from core.formatting import display_frame, fmt_int, fmt_num, fmt_pct
from core.report.content import ReportContent, headline, summary_kpis
from core.report.style import (
    METHOD_PALETTE,
    ORIGINAL_COLOUR,
    PARETO_COLOUR,
    PRUNED_COLOUR,
)

_FONT, _FONT_BOLD = "Helvetica", "Helvetica-Bold"


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
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontName=bold, fontSize=16, textColor=colors.HexColor(ORIGINAL_COLOUR), spaceBefore=10, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=12, keepWithNext=1),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontName=font, fontSize=9.5, leading=12.5),
        "small": ParagraphStyle("s", parent=base["BodyText"], fontName=font, fontSize=8, leading=10, textColor=colors.HexColor("#555555")),
        "cell": ParagraphStyle("c", parent=base["BodyText"], fontName=font, fontSize=7.5, leading=9),
        "head": ParagraphStyle("hd", parent=base["BodyText"], fontName=bold, fontSize=7.5, leading=9),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)), style)


_PAGE_WIDTH = A4[0] - 3.6 * cm  # inside the margins
_MAX_COLS = 8
_GOV_ROWS = 30


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


def _png(fig) -> Image:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    w, h = fig.get_size_inches()
    plt.close(fig)
    buf.seek(0)
    width = 16 * cm
    return Image(buf, width=width, height=width * h / w)


# --------------------------------------------------------------------------- static charts


def _sparsity_chart(c: ReportContent):
    f = c.layers
    fig, ax = plt.subplots(figsize=(7, 3))
    x = np.arange(len(f))
    ax.bar(x - 0.2, f["total_weights"], 0.4, color=ORIGINAL_COLOUR, label="Original weights")
    ax.bar(x + 0.2, f["nonzero_weights"], 0.4, color=PRUNED_COLOUR, label="Non-zero after pruning")
    for i, s in enumerate(f["sparsity"]):
        ax.text(i + 0.2, f["nonzero_weights"].iloc[i], f"{s:.0%}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [str(v) for v in f["layer"]])
    ax.set_xlabel("layer")
    ax.set_ylabel("weights")
    ax.legend(fontsize=8)
    ax.set_title("Weights per layer")
    return fig


def _tradeoff_chart(c: ReportContent):
    t = c.sweep_table
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for i, (_, part) in enumerate(t.groupby("method", sort=False)):
        part = part.sort_values("nonzeros")
        ax.plot(part["nonzeros"], part["auc"], "o-", ms=3, lw=1, color=METHOD_PALETTE[i % len(METHOD_PALETTE)],
                label=str(part["method_label"].iloc[0]))
    front = t[t["pareto"]].sort_values("nonzeros")
    ax.plot(front["nonzeros"], front["auc"], ":", lw=2.5, color=PARETO_COLOUR, label="Pareto front")
    ax.plot([c.summary["nonzeros_original"]], [c.summary["auc_original"]], "o", ms=10, color=ORIGINAL_COLOUR, label="Original")
    ax.plot([c.chosen_point["nonzeros"]], [c.chosen_point["auc"]], "*", ms=16, color=PRUNED_COLOUR, mec="black", label="Chosen")
    ax.set_xlabel("non-zero parameters")
    ax.set_ylabel("AUC")
    ax.set_title("AUC vs non-zero parameters")
    ax.legend(fontsize=6.5, loc="lower right")
    return fig


def _shift_chart(c: ReportContent, top: int = 15):
    t = c.shift.table.head(top).iloc[::-1]
    lvl = c.shift.level
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.28 * len(t) + 1)))
    y = np.arange(len(t))
    ax.barh(y + 0.2, t["importance_original"], 0.4, color=ORIGINAL_COLOUR, label="Original")
    ax.barh(y - 0.2, t["importance_pruned"], 0.4, color=PRUNED_COLOUR, label="Pruned")
    ax.set_yticks(y, [("* " if f else "") + str(n) for n, f in zip(t[lvl], t["flagged"])], fontsize=7)
    ax.set_xlabel("mean |SHAP| (log-odds)")
    ax.set_title(f"Mean |SHAP| per {lvl} (* = flagged)")
    ax.legend(fontsize=8)
    return fig


def _scores_chart(c: ReportContent):
    fig, ax = plt.subplots(figsize=(7, 2.8))
    bins = np.linspace(0, 1, 41)
    ax.hist(c.original_scores, bins=bins, color=ORIGINAL_COLOUR, alpha=0.6, label="Original")
    ax.hist(c.pruned_scores, bins=bins, color=PRUNED_COLOUR, alpha=0.6, label="Pruned")
    ax.axvline(c.comparison.cutoff.cutoff, color="black", ls="--", lw=1, label=f"cutoff {c.comparison.cutoff.cutoff:.4f}")
    ax.set_xlabel("P(bad)")
    ax.set_ylabel("applicants")
    ax.set_title("P(bad) distribution of evaluated applicants")
    ax.legend(fontsize=8)
    return fig


# --------------------------------------------------------------------------- document


def render_pdf(c: ReportContent) -> bytes:
    st = _styles()
    story: list = []
    story += [Spacer(1, 3 * cm), _p(c.title, st["title"]), Spacer(1, 0.6 * cm),
              _p("Committee report: pruning a credit-risk model", st["h2"]), Spacer(1, 0.8 * cm)]
    meta = pd.DataFrame([
        ("Model", c.model_name), ("Dataset", c.data_name), ("Report date (UTC)", c.created_utc),
        ("Model file SHA-256", c.model_sha256), ("Data file SHA-256", c.data_sha256 or "not given (data passed in memory)"),
        ("Prepared data fingerprint", c.data_fingerprint),
        ("Method", f"{c.method_label} at {fmt_pct(c.ratio)} — {c.state.upper()}"),
    ], columns=["Item", "Value"])
    story += [_table(meta, st, [4.5 * cm, 12 * cm]), Spacer(1, 0.8 * cm)]
    for label, text in headline(c):
        story.append(_p(f"{label}: {text}", st["body"]))
    story.append(PageBreak())

    story += [_p("1. Executive summary", st["h1"])]
    kpi = pd.DataFrame(summary_kpis(c), columns=["Indicator", "Value", "Detail"])
    story += [_table(kpi, st, [4.5 * cm, 3 * cm, 8 * cm])]
    for label, text in headline(c):
        story.append(_p(f"{label}: {text}", st["body"]))

    story += [_p("2. Method and settings", st["h1"]),
              _p("Compacted: removed neurons or inputs are physically gone; the exported network is smaller and faster."
                 if c.state == "compacted" else
                 "Masked: removed weights are set to zero but stay stored; file size and compute are unchanged.", st["body"]),
              _table(c.display_settings(), st, [4 * cm, 12.5 * cm]), Spacer(1, 0.3 * cm), _table(c.display_size(), st)]

    story += [_p("3. Layer sparsity", st["h1"]), _png(_sparsity_chart(c)), _table(c.display_layers(), st)]

    if c.sweep_table is not None:
        front = c.sweep_table[c.sweep_table["pareto"]].sort_values("nonzeros")
        story += [_p("4. Size vs risk trade-off", st["h1"]),
                  _p("Every method at every ratio, pruned without fine-tuning, on the same rows and cutoff; the star marks "
                     "the model in this report.", st["small"]), _png(_tradeoff_chart(c)),
                  _p("Pareto front:", st["body"]),
                  _table(pd.DataFrame({"Method": front["method_label"], "Ratio": [fmt_pct(v, 0) for v in front["ratio"]],
                                       "Non-zeros": [fmt_int(v) for v in front["nonzeros"]],
                                       "File bytes": [fmt_int(v) for v in front["file_bytes"]],
                                       "AUC": [fmt_num(v) for v in front["auc"]], "KS": [fmt_num(v) for v in front["ks"]]}), st)]
    n = 5 if c.sweep_table is not None else 4
    story += [_p(f"{n}. Metrics: original vs pruned", st["h1"]), _table(c.display_metrics(), st, [5.5 * cm, 3.5 * cm, 3.5 * cm, 3.5 * cm])]
    if c.comparison.ci:
        story += [Spacer(1, 0.2 * cm), _p("Paired bootstrap intervals of the change:", st["body"]), _table(c.display_ci(), st)]
    story.append(_p(f"Spearman rank correlation of the two models' scores: {fmt_num(c.comparison.spearman)}.", st["body"]))

    story.append(_p(f"{n + 1}. SHAP importance shift", st["h1"]))
    if c.shift is not None:
        sh = c.shift
        story += [_p(f"Spearman ρ of importances {fmt_num(sh.spearman)}, Kendall τ {fmt_num(sh.kendall)}; "
                     + ", ".join(f"top-{k} overlap {fmt_pct(v, 0)}" for k, v in sorted(sh.top_overlap.items()))
                     + f". Flagged: {', '.join(sh.flagged) if sh.flagged else 'none'}.", st["body"]),
                  _png(_shift_chart(c)), _table(c.display_shift(top=15), st)]
    else:
        story.append(_p("No SHAP comparison was computed for this report.", st["body"]))

    cut = c.comparison.cutoff
    story += [_p(f"{n + 2}. Decision impact", st["h1"]),
              _p(f"Cutoff {fmt_num(cut.cutoff)} (decline when P(bad) ≥ cutoff): {cut.how}. Both models are judged at this cutoff.", st["body"]),
              _table(c.display_decisions(), st), Spacer(1, 0.2 * cm), _table(c.display_flips(), st), Spacer(1, 0.2 * cm),
              _p(f"Score PSI {fmt_num(c.comparison.psi.value)} — {c.comparison.psi.band} (bins at the original scores' deciles).", st["body"]),
              _png(_scores_chart(c)), _table(c.display_psi(), st)]
    k = n + 3
    if c.governance:
        story.append(_p(f"{k}. Governance checks", st["h1"]))
        for title, frame, note in c.governance:
            story.append(_p(title, st["h2"]))
            if note:
                story.append(_p(note, st["small"]))
            story.append(_table(display_frame(frame), st, max_rows=_GOV_ROWS))
            if len(frame) > _GOV_ROWS:
                story.append(_p(f"First {_GOV_ROWS} of {len(frame):,} rows shown; the HTML report has all rows.", st["small"]))
        k += 1
    story.append(_p(f"{k}. Limitations and intended use", st["h1"]))
    for t in c.limitations:
        story.append(_p(f"• {t}", st["body"]))
    story.append(Spacer(1, 0.4 * cm))
    story.append(_p(f"Generated by RiskPrune on {c.created_utc}. The run manifest (manifest.json) lists every setting, "
                    "package version and file hash needed to reproduce these numbers.", st["small"]))

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
