"""The slide deck for the analyst who presents the pruning to the committee (python-pptx, 16:9).

Eleven slides — title, verdict, size saved, performance vs challenger, rank ordering, calibration,
decision impact, importance shift, fairness, stability, recommendation and next steps. Each chart
slide shows one of the report's chart PNGs (``ReportContent.chart``: the same bytes as in the PDF and
the DOCX) beside its one-line takeaway (``core.report.document.takeaway``) and a few supporting
lines. Every word is in an editable text box or table, so the presenter can reword it; no number is
typed in by hand — a slide whose inputs were not computed says so instead of showing a chart.
"""
from __future__ import annotations

import io

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.util import Emu, Inches, Pt

from core.formatting import fmt_int, fmt_num, fmt_pct
from core.report.charts import png_size
from core.report.content import ReportContent
from core.report.document import takeaway
from core.report.style import ORIGINAL_COLOUR
from core.validation import SIGN_OFF_ROLES

DECK_TITLES = ("Pruning proposal", "Verdict", "Size saved", "Performance vs challenger", "Rank ordering", "Calibration",
               "Decision impact", "Importance shift", "Fairness", "Stability", "Recommendation and next steps")
_W, _H = Inches(13.333), Inches(7.5)
_BLUE = RGBColor.from_string(ORIGINAL_COLOUR.lstrip("#"))
_GREY, _RED, _GREEN = RGBColor(0x55, 0x55, 0x55), RGBColor(0xC0, 0x39, 0x2B), RGBColor(0x2E, 0x8B, 0x57)
_TITLE_ONLY, _TITLE = 5, 0


def _text(slide, left, top, width, height, lines, size: int = 14, bold_first: bool = False, colour=None):
    """An editable text box; ``lines`` are paragraphs (str or (text, colour))."""
    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    tf.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE  # PowerPoint shrinks long text into the box when it opens
    for i, line in enumerate(lines):
        text, col = line if isinstance(line, tuple) else (line, colour)
        para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        run = para.add_run()
        run.text = text
        run.font.size = Pt(size if not (bold_first and i == 0) else size + 2)
        run.font.bold = bool(bold_first and i == 0)
        if col is not None:
            run.font.color.rgb = col
        para.space_after = Pt(6)
    return box


def _title(prs, title: str):
    slide = prs.slides.add_slide(prs.slide_layouts[_TITLE_ONLY])
    t = slide.shapes.title
    t.left, t.top, t.width, t.height = Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.9)
    t.text = title
    p = t.text_frame.paragraphs[0]
    p.runs[0].font.size, p.runs[0].font.bold, p.runs[0].font.color.rgb = Pt(30), True, _BLUE
    return slide


def _chart_slide(prs, c: ReportContent, title: str, chart: str | None, lines: list, missing: str = "") -> None:
    slide = _title(prs, title)
    if chart is not None and c.has_chart(chart):
        png = c.chart(chart)
        w, h = png_size(png)
        max_w, max_h = Inches(8.4), Inches(5.6)
        width = max_w
        height = Emu(int(width * h / w))
        if height > max_h:
            height = max_h
            width = Emu(int(height * w / h))
        slide.shapes.add_picture(io.BytesIO(png), Inches(0.4), Inches(1.4), width=width, height=height)
        _text(slide, Inches(9.0), Inches(1.4), Inches(3.9), Inches(5.6), [takeaway(c, chart), *lines], size=13, bold_first=True)
    else:
        _text(slide, Inches(0.6), Inches(1.6), Inches(12.0), Inches(5.0), [missing or "Not computed for this report.", *lines],
              size=16, bold_first=True)


def _verdict_slide(prs, c: ReportContent) -> None:
    slide = _title(prs, "Verdict")
    p = c.pack
    if p is None:
        _text(slide, Inches(0.6), Inches(1.6), Inches(12), Inches(4), ["No acceptance policy was evaluated for this report."], 18)
        return
    v = p.verdict
    _text(slide, Inches(0.5), Inches(1.3), Inches(12.3), Inches(1.2),
          [(v.headline, _GREEN if v.acceptable else _RED), (p.materiality.headline, _GREY)], size=15, bold_first=True)
    judged = [r for r in v.results if r.status != "off"]
    rows = judged if len(judged) <= 14 else judged[:12]  # room below the table for the note
    if len(judged) > len(rows):
        _text(slide, Inches(0.5), Inches(7.0), Inches(12.3), Inches(0.4),
              [f"… and {len(judged) - len(rows)} more criteria: see the Summary verdict section of the report."], size=11, colour=_GREY)
    table = slide.shapes.add_table(len(rows) + 1, 4, Inches(0.5), Inches(2.7), Inches(12.3), Inches(0.3 * (len(rows) + 1))).table
    for j, (head, width) in enumerate((("Criterion", 6.3), ("Value", 2.0), ("Limit", 2.0), ("Status", 2.0))):
        table.columns[j].width = Inches(width)
        table.cell(0, j).text = head
    for i, r in enumerate(rows, 1):
        status = {"pass": "pass", "fail": "FAIL", "not applicable": "not applicable"}.get(r.status, r.status)
        for j, text in enumerate((r.label, r.value_text if r.status != "not applicable" else "—", r.rule, status)):
            cell = table.cell(i, j)
            cell.text = text
            run = cell.text_frame.paragraphs[0].runs[0]
            run.font.size = Pt(11)
            if j == 3 and r.status == "fail":
                run.font.bold, run.font.color.rgb = True, _RED
    for j in range(4):
        table.cell(0, j).text_frame.paragraphs[0].runs[0].font.size = Pt(12)


def render_deck(c: ReportContent) -> bytes:
    prs = Presentation()
    prs.slide_width, prs.slide_height = _W, _H
    prs.core_properties.title, prs.core_properties.author = c.title, "RiskPrune"
    s, cmp, pack = c.summary, c.comparison, c.pack

    slide = prs.slides.add_slide(prs.slide_layouts[_TITLE])
    title, sub = slide.shapes.title, slide.placeholders[1]
    title.left, title.top, title.width, title.height = Inches(0.8), Inches(2.0), Inches(11.7), Inches(1.6)
    sub.left, sub.top, sub.width, sub.height = Inches(0.8), Inches(3.9), Inches(11.7), Inches(1.8)
    title.text = f"Pruning proposal: {c.model_name}"
    title.text_frame.paragraphs[0].runs[0].font.color.rgb = _BLUE
    sub.text = (f"{c.method_label} at {fmt_pct(c.ratio, 0)} — {c.state.upper()}\n"
                f"Data: {c.data_name}, {fmt_int(c.n_eval)} evaluation rows — {c.created_utc[:10]}")

    _verdict_slide(prs, c)
    _chart_slide(prs, c, "Size saved", "size",
                 [f"Non-zero parameters {fmt_int(s['nonzeros_original'])} → {fmt_int(s['nonzeros_pruned'])}.",
                  f"File {fmt_int(s['file_bytes_original'])} → {fmt_int(s['file_bytes_pruned'])} bytes.",
                  "Compacted: the neurons are physically gone." if c.state == "compacted" else
                  "Masked: zeros are stored, so file size and compute do not shrink."])
    perf_lines = [f"AUC {fmt_num(s['auc_original'])} → {fmt_num(s['auc_pruned'])} (ΔAUC {s['delta_auc']:+.4f})."]
    if pack is not None and pack.challenger is not None:
        perf_lines.append(pack.challenger.note)
    elif pack is not None and "challenger" in pack.notes:
        perf_lines.append(f"No challenger: {pack.notes['challenger']}")
    _chart_slide(prs, c, "Performance vs challenger", "performance" if pack is not None else None, perf_lines)
    _chart_slide(prs, c, "Rank ordering", "rank" if pack is not None else None,
                 [] if pack is None else [f"Capture: {takeaway(c, 'capture')}"])
    _chart_slide(prs, c, "Calibration", "calibration" if pack is not None else None,
                 [] if pack is None else ["Hosmer–Lemeshow p (pruned): "
                                          + (f"{pack.calibration['pruned'].hosmer_lemeshow.p_value:.3g}"
                                             if pack.calibration["pruned"].hosmer_lemeshow is not None else "not computed")])
    el = [] if pack is None or pack.expected_loss is None else [
        f"Expected loss of the approved book {fmt_num(pack.expected_loss.expected_loss_original, 0)} → "
        f"{fmt_num(pack.expected_loss.expected_loss_pruned, 0)} ({pack.expected_loss.exposure_column}, LGD {fmt_pct(pack.expected_loss.lgd, 0)})."]
    _chart_slide(prs, c, "Decision impact", "flips",
                 [f"Cutoff {fmt_num(cmp.cutoff.cutoff)}: approval {fmt_pct(cmp.original.approval_rate)} → {fmt_pct(cmp.pruned.approval_rate)}.",
                  *el])
    reasons = []
    if c.reasons is not None and c.reasons.n_assessed:
        r = c.reasons
        reasons = [f"Adverse-action reasons of {fmt_int(r.n_assessed)} declined applicants: same top reason for "
                   f"{fmt_pct(r.same_top1_share, 0)}, {fmt_pct(r.top_k_overlap_share, 0)} of their top-{r.k} reasons kept."]
    _chart_slide(prs, c, "Importance shift", "shift", reasons, missing="No SHAP comparison was computed for this report.")
    _chart_slide(prs, c, "Fairness", "fairness", [], missing="Fairness was not assessed: no segment columns were chosen.")
    if pack is not None and pack.seed_stability is not None:
        _chart_slide(prs, c, "Stability", "seeds", [takeaway(c, "scores")])
    else:
        _chart_slide(prs, c, "Stability", "scores", ["Not fine-tuned: one deterministic model, no seed spread to show."])

    slide = _title(prs, "Recommendation and next steps")
    lines = []
    if pack is not None:
        v, m = pack.verdict, pack.materiality
        ask = ("Approve the pruned model for the intended use, subject to the monitoring triggers." if v.acceptable and not m.material
               else "Approve only after the independent validation a material change requires." if v.acceptable
               else "Do not approve this pruning as it stands: it fails the acceptance policy.")
        lines += [(ask, _GREEN if v.acceptable else _RED), f"Verdict: {v.headline}", f"Materiality: {m.headline}"]
        if pack.recommendation is not None:
            lines.append(f"Search: {pack.recommendation.summary}")
        trig = pack.change.triggers[:3]
        lines.append("Monitor: " + "; ".join(f"{t.label} (amber {t.amber}, red {t.red})" for t in trig) + ".")
        lines.append(f"Sign-off: {', '.join(role for role, _ in SIGN_OFF_ROLES)} (table in the report).")
    else:
        lines.append("Evaluate the pruning under the acceptance policy before asking for approval.")
    lines.append(f"Full evidence: report.html / report.pdf / report.docx; reproducible from manifest.json ({c.created_utc}).")
    _text(slide, Inches(0.6), Inches(1.4), Inches(12.1), Inches(5.6), lines, size=15, bold_first=True)

    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def deck_bytes(c: ReportContent) -> bytes:
    return render_deck(c)
