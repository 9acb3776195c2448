"""The report as a document: sections of blocks (paragraphs, tables, charts), rendered by HTML, PDF and DOCX alike.

The three documents say the same things in the same order because each renderer walks the same
``document(content)``; only typography differs. Sections follow the order a validator reads
(``core.report.content.SECTIONS``). Chart blocks name a chart of ``core.report.charts`` and carry
its one-line takeaway; the PDF and the DOCX embed the shared PNG, the HTML draws the same table with
plotly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.formatting import display_frame, fmt_int, fmt_num, fmt_pct, fmt_signed
from core.glossary import glossary_frame
from core.metrics.stability import psi_bands_text
from core.report.content import ReportContent, headline, summary_kpis
from core.workspace.exposure import PER_APPLICANT, PER_APPLICANT_NOTE


@dataclass(frozen=True)
class P:
    text: str
    style: str = "body"  # body | note | flag | lead


@dataclass(frozen=True)
class H3:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Table:
    frame: pd.DataFrame  # every cell already text
    cls: str = ""
    max_rows: int | None = None  # paged formats show at most this many rows (the HTML shows all unless ``cut_html``)
    widths: tuple[float, ...] | None = None  # relative column widths for paged formats
    cut_html: bool = False  # the HTML too shows at most ``max_rows`` (tables that grow with the model's inputs)

    def cut_note(self) -> str:
        where = "" if self.cut_html else "; the HTML report has all rows"
        return f"First {self.max_rows} of {len(self.frame):,} rows shown{where}."


@dataclass(frozen=True)
class Chart:
    name: str
    takeaway: str


@dataclass(frozen=True)
class Kpis:
    items: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: tuple


# --------------------------------------------------------------------------- takeaways: one line per chart


def takeaway(c: ReportContent, name: str) -> str:
    """The one-line message of a chart, from the same numbers the chart plots."""
    s, cmp, pack = c.summary, c.comparison, c.pack
    if name == "size":
        return (f"{fmt_pct(s['parameters_saved_share'])} fewer stored parameters ({fmt_int(s['parameters_original'])} → "
                f"{fmt_int(s['parameters_pruned'])}), file {fmt_pct(s['file_bytes_saved_share'])} smaller; the model is {c.state.upper()}.")
    if name == "sparsity":
        lay = c.layers
        return (f"{fmt_pct(s['sparsity'])} of the weights are zero or removed; "
                f"{fmt_int(lay['neurons_kept'].sum())} of {fmt_int(lay['neurons_total'].sum())} neurons kept.")
    if name == "tradeoff":
        p = c.chosen_point
        return (f"The model in this report ({c.method_label} at {fmt_pct(c.ratio, 0)}) has AUC {fmt_num(p['auc'])} at "
                f"{fmt_int(p['nonzeros'])} non-zero parameters; the dotted line is the Pareto front of the sweep.")
    if name == "performance":
        ch = pack.challenger
        if ch is None:
            po = pack.performance_for("pruned")
            return f"Pruned AUC {fmt_num(po.auc)} (95% CI {fmt_num(po.auc_low)}–{fmt_num(po.auc_high)}); no challenger was fitted."
        j = ch.justification_for("pruned")
        verdicts = {"justified": "the network still justifies its complexity",
                    "not shown": "the network's gain over it is within noise",
                    "not justified": "the logistic regression ranks better"}
        return (f"Pruned AUC {fmt_num(j.test.auc_b)} vs logistic regression {fmt_num(j.test.auc_a)} "
                f"(difference {fmt_signed(j.test.delta)}, DeLong p = {j.test.p_value:.3g}): {verdicts[j.outcome]}.")
    if name == "rank":
        ro, rp = pack.rank["original"], pack.rank["pruned"]
        return (f"Pruned: bad rate {fmt_pct(rp.to_dict()['safest_bad_rate'])} in the safest band to "
                f"{fmt_pct(rp.to_dict()['riskiest_bad_rate'])} in the riskiest, {len(rp.inversions)} inversion(s) "
                f"(original: {len(ro.inversions)}).")
    if name == "capture":
        cap = pack.capture
        i = int(np.argmin(np.abs(cap["share_of_applicants"].to_numpy() - 0.2)))
        extra = f", challenger {fmt_pct(cap['challenger'].iloc[i], 0)}" if "challenger" in cap else ""
        return (f"The riskiest 20% of applicants hold {fmt_pct(cap['pruned'].iloc[i], 0)} of the bads under the pruned model "
                f"(original {fmt_pct(cap['original'].iloc[i], 0)}{extra}).")
    if name == "calibration":
        t = pack.calibration["pruned"].in_the_large
        eo, ep = pack.calibration["original"].ece, pack.calibration["pruned"].ece
        return (f"Pruned mean PD {fmt_pct(t.mean_pd, 1)} vs observed bad rate {fmt_pct(t.observed_bad_rate, 1)} "
                f"(binomial p = {t.p_value:.3g}); ECE {fmt_num(eo)} → {fmt_num(ep)}.")
    if name == "scores":
        return f"Score PSI {fmt_num(cmp.psi.value)} — {cmp.psi.band}; both models are cut at {fmt_num(cmp.cutoff.cutoff)}."
    if name == "seeds":
        st = pack.seed_stability.summary_frame().set_index("metric")
        return (f"AUC varies by {fmt_num(st.loc['auc', 'spread'])} and flips by {int(st.loc['flips', 'spread'])} over "
                f"{len(pack.seed_stability.seeds)} fine-tuning seeds; the shipped model is seed {pack.seed_stability.shipped_seed}.")
    if name == "shift":
        sh = c.shift
        flagged = ", ".join(sh.flagged[:4]) + (" …" if len(sh.flagged) > 4 else "") if sh.flagged else "none"
        return f"Importance ranks agree with Spearman ρ {fmt_num(sh.spearman, 3)}; flagged {sh.level}s: {flagged}."
    if name == "flips":
        f = cmp.flips
        return (f"{fmt_int(f.count)} of {fmt_int(f.n)} decisions change ({fmt_pct(f.share, 1)}): {f.good_declined} goods newly "
                f"declined, {f.bad_approved} bads newly approved.")
    if name == "fairness":
        f = c.fairness_frame
        newly = int(f["newly_flagged"].sum())
        lo_o, lo_p = f["air_original"].min(), f["air_pruned"].min()
        return (f"Lowest adverse impact ratio {fmt_num(lo_p, 3)} pruned vs {fmt_num(lo_o, 3)} original; "
                f"{newly} segment(s) newly below the four-fifths line.")
    raise KeyError(name)


def chart_block(c: ReportContent, name: str) -> Chart | None:
    return Chart(name, takeaway(c, name)) if c.has_chart(name) else None


# --------------------------------------------------------------------------- sections


def _summary(c: ReportContent) -> list:
    out: list = [Kpis(tuple(summary_kpis(c))), Bullets(tuple(f"{k}: {v}" for k, v in headline(c)))]
    p = c.pack
    if p is not None:
        out += [H3("Acceptance criteria"), P(c.policy_settings_text(), "note"), Table(c.display_verdict(), "verdict", widths=(2, 5, 2, 2, 1.5))]
        failed = [r.sentence for r in p.verdict.results if r.failed]
        if failed:
            out.append(Bullets(tuple(failed)))
        out += [H3("Why each criterion is in the policy"), Table(c.display_policy(), "policy", widths=(4, 2, 1, 8))]
    out.append(P(f"Model state: {c.state.upper()} — {c.state_note}.", "lead"))
    out += [P(n, "note") for n in c.notes]
    return out


def _candidates(c: ReportContent) -> list:
    out: list = []
    p = c.pack
    if p is not None and p.recommendation is not None:
        rec = p.recommendation
        out += [H3("Recommendation search under the policy"), P(rec.summary), Table(c.display_candidates(), "candidates")]
    if c.sweep_table is not None:
        out += [P("Every method at every ratio, pruned without fine-tuning, on the same rows and cutoff; the star marks the "
                  "model in this report.", "note")]
        out += [b for b in (chart_block(c, "tradeoff"),) if b]
        front = c.sweep_table[c.sweep_table["pareto"]].sort_values("nonzeros")
        out += [P("Pareto front (no other point is both smaller and better on AUC):"), Table(pd.DataFrame({
            "Method": front["method_label"], "Ratio": [fmt_pct(v, 0) for v in front["ratio"]],
            "Non-zeros": [fmt_int(v) for v in front["nonzeros"]], "File bytes": [fmt_int(v) for v in front["file_bytes"]],
            "AUC": [fmt_num(v) for v in front["auc"]], "KS": [fmt_num(v) for v in front["ks"]]}))]
        skipped = c.sweep_settings.get("skipped") or {}
        if skipped:
            out.append(P("Skipped: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()), "note"))
    return out


def _change(c: ReportContent) -> list:
    explanation = ("Compacted: removed neurons or inputs are physically gone; the exported network is smaller and faster."
                   if c.state == "compacted" else
                   "Masked: removed weights are set to zero but stay stored; file size and compute are unchanged.")
    out: list = [P(explanation)]
    p = c.pack
    if p is not None:
        out += [Table(c.display_changes(), "changes", widths=(3, 3, 6))]
    out += [b for b in (chart_block(c, "size"), chart_block(c, "sparsity")) if b]
    out += [Table(c.display_size()), Table(c.display_layers())]
    if c.dropped_fills:
        out += [H3("Variables no longer read"),
                P("The pruned model takes fewer columns; inside it, each removed variable is fed the value below."),
                Table(c.display_fills(), widths=(3, 3, 6))]
    if p is not None:
        m = p.materiality
        out += [H3("Materiality"), P(m.headline, "lead" if not m.material else "flag")]
        if m.reasons:
            out.append(Bullets(m.reasons))
        out += [Table(c.display_materiality_policy(), widths=(6, 2)), Table(c.display_materiality(), "margins"),
                H3("Intended use"), P(p.change.intended_use)]
    return out


def _alignment(c: ReportContent) -> list:
    a = c.pack.alignment
    params, fit, eff = c.display_alignment()
    return [P(f"Map: {a.label}."), P(a.description), P(f"Fitted on {fmt_int(a.fit_rows)} rows ({fmt_int(a.fit_rows_bad)} bad): "
                                                         f"{a.fitted_on}. These rows are never evaluation rows.", "note"),
            Table(params, widths=(3, 6)), Table(fit), P(a.effect.summary()), Table(eff)]


def _data(c: ReportContent) -> list:
    return [Table(c.display_data(), "text", widths=(3, 9))]


def _performance(c: ReportContent) -> list:
    p = c.pack
    out: list = []
    if p is not None:
        if p.challenger is not None:
            out += [P(p.challenger.note, "note")]
        out += [b for b in (chart_block(c, "performance"),) if b]
        out += [Table(c.display_performance(), "performance")]
        if p.challenger is not None:
            out += [Bullets(tuple(j.sentence for j in p.challenger.justification)), Table(c.display_challenger_tests()),
                    H3("Challenger coefficients (largest 10, per standard deviation of the input)"), Table(c.display_coefficients())]
        elif "challenger" in p.notes:
            out.append(P(f"No challenger: {p.notes['challenger']}", "flag"))
        out += [H3("ΔAUC, original vs pruned: DeLong's test beside the bootstrap"), Table(c.display_delong(), widths=(4, 6))]
    out += [H3("Every metric, original vs pruned"), Table(c.display_metrics(), "metrics")]
    if c.comparison.ci:
        out += [P("Paired bootstrap intervals of the change:"), Table(c.display_ci(), "ci")]
    out.append(P(f"Spearman rank correlation of the two models' scores: {fmt_num(c.comparison.spearman)}."))
    return out


def _rank(c: ReportContent) -> list:
    p = c.pack
    out: list = [P(p.rank["original"].summary().replace("Bad rate", "Original: bad rate", 1)),
                 P(p.rank["pruned"].summary().replace("Bad rate", "Pruned: bad rate", 1))]
    out += [b for b in (chart_block(c, "rank"),) if b]
    out += [Table(c.display_rank(), "rank")]
    inv = c.display_inversions()
    if len(inv):
        out += [P("Inversions (a riskier band with a lower bad rate than the band before it):"), Table(inv)]
    out += [b for b in (chart_block(c, "capture"),) if b]
    out += [P("Cumulative capture and lift (Engelmann, Hayden & Tasche, 2003): the share of all bads among the riskiest "
              "applicants, and that share divided by the share of applicants taken.", "note"), Table(c.display_lift(), "lift")]
    return out


def _calibration(c: ReportContent) -> list:
    p = c.pack
    out: list = [P("Null hypothesis of every test: the PDs are right. Calibration in the large: two-sided binomial test of the "
                   "bads against the mean PD; ECE: mean |observed − predicted| over equal-count bins; Hosmer–Lemeshow Ĉ over "
                   "risk groups with df = groups (PDs not fitted on these rows); per grade: one-sided binomial and Jeffreys tests "
                   "(ECB 2019 instructions, §2.5.3.1).", "note"),
                 Table(c.display_calibration(), "calibration")]
    out += [P(m.note, "note") for m in p.calibration.values() if m.note]
    out += [b for b in (chart_block(c, "calibration"),) if b]
    src = "grade" if p.options.grade_edges is not None else "score decile"
    out += [H3(f"Per {src}: pruned model"), Table(c.display_grades("pruned"), "grades"),
            H3(f"Per {src}: original model"), Table(c.display_grades("original"), "grades")]
    return out


def _stability(c: ReportContent) -> list:
    cmp = c.comparison
    out: list = [P(f"Score PSI {fmt_num(cmp.psi.value)} — {cmp.psi.band} (bins at the original scores' deciles; bands "
                   f"{psi_bands_text()}).")]
    out += [b for b in (chart_block(c, "scores"),) if b]
    out += [Table(c.display_psi())]
    p = c.pack
    if p is not None and p.seed_stability is not None:
        out += [H3("Seed stability of fine-tuning"), P(p.seed_stability.sentence), P(p.seed_stability.description + ".", "note")]
        out += [b for b in (chart_block(c, "seeds"),) if b]
        out += [Table(c.display_seed_summary()), Table(c.display_seeds())]
    elif p is not None:
        why = p.notes.get("seed stability") or ("the model is not fine-tuned: it is a deterministic function of the pruning"
                                                if not c.fine_tuned else "switched off in the report options")
        out.append(P(f"Seed stability not run: {why}.", "note"))
    if p is not None and p.out_of_time is not None:
        o = p.out_of_time
        out += [H3("Out-of-time sample"), P(f"{fmt_int(o.n_oot)} later rows against the {fmt_int(o.n_reference)} evaluation rows; "
                                            f"score PSI of the pruned model {fmt_num(o.score_psi_pruned.value)} "
                                            f"({o.score_psi_pruned.band})."), Table(c.display_oot())]
    return out


def _explain(c: ReportContent) -> list:
    out: list = []
    if c.shift is not None:
        sh = c.shift
        flagged = ", ".join(sh.flagged) if sh.flagged else "none"
        out.append(P(f"Spearman ρ of importances {fmt_num(sh.spearman)}, Kendall τ {fmt_num(sh.kendall)}; "
                     + ", ".join(f"top-{k} overlap {fmt_pct(v, 0)}" for k, v in sorted(sh.top_overlap.items()))
                     + f". Flagged {sh.level}s: {flagged}."))
        out.append(P(f"Flag rule: {sh.rule}. Ranks among many small, similar importances reshuffle from one sample of "
                     "applicants to the next; the noise test keeps those out.", "note"))
        out += [b for b in (chart_block(c, "shift"),) if b]
        out.append(Table(c.display_shift(), "shift", max_rows=60, cut_html=True))
    else:
        out.append(P("No SHAP comparison was computed for this report."))
    out.append(H3("Adverse-action reasons of declined applicants"))
    if c.reasons is not None:
        out += [P(c.reasons_text()), Table(c.display_reasons())]
    else:
        out.append(P("Adverse-action reasons were not compared in this report (governance switched off or no SHAP sample).", "note"))
    return out


def _fairness(c: ReportContent) -> list:
    out: list = []
    if c.fairness is not None and len(c.fairness.to_frame()):
        out.append(P("Approval rate of each segment relative to the best-approved segment of its column (adverse impact ratio); "
                     "below 0.8 fails the four-fifths rule (29 CFR 1607.4(D)). Segments describe applicants; they are not "
                     "model inputs unless the model uses them.", "note"))
        out += [b for b in (chart_block(c, "fairness"),) if b]
        out.append(Table(c.display_fairness(), "fairness", max_rows=120, cut_html=True))
    for title, frame, note in c.governance:
        out.append(H3(title))
        if note:
            out.append(P(note, "note"))
        out.append(Table(display_frame(frame), max_rows=30))
    if not out:
        out.append(P("Fairness was not assessed: no segment columns were chosen (or the governance section was switched off).", "flag"))
    return out


def _decisions(c: ReportContent) -> list:
    cut = c.comparison.cutoff
    out: list = [P(f"Cutoff {fmt_num(cut.cutoff)} (decline when P(bad) ≥ cutoff): {cut.how}. Both models are judged at this cutoff."),
                 Table(c.display_decisions())]
    out += [b for b in (chart_block(c, "flips"),) if b]
    out += [Table(c.display_flips(), "flips")]
    p = c.pack
    out.append(H3("Expected loss of the approved book"))
    if p is not None and p.expected_loss is not None:
        el = p.expected_loss
        exposure = (f"no usable loan-amount column, so {PER_APPLICANT_NOTE}" if el.exposure_column == PER_APPLICANT
                    else f"exposure '{el.exposure_column}'")
        out += [P(f"Expected loss = PD × LGD × EAD (Basel II IRB, BCBS 2006 ¶272) over each model's approved applicants, with "
                  f"{exposure} and LGD {fmt_pct(el.lgd, 0)}; observed loss uses the actual outcomes."),
                Table(c.display_expected_loss())]
    else:
        why = (p.notes.get("expected loss") if p is not None else None) or "no exposure (loan amount) column was identified"
        out.append(P(f"Not computed: {why}.", "note"))
    return out


def _limitations(c: ReportContent) -> list:
    return [Bullets(tuple(c.limitations))]


def _monitoring(c: ReportContent) -> list:
    ch = c.pack.change
    return [P("Compute these on production data at every monitoring cycle; amber asks for investigation, red for escalation "
              "to model risk management. Limits are derived from the values measured in this report.", "note"),
            Table(c.display_triggers(), "triggers", widths=(3, 4, 3, 2.5, 2.5, 4)),
            H3("Score PSI reference bins (pruned model, this evaluation)"), Table(c.display_reference_bins()),
            P(ch.monitoring.text, "note")]


def _signoff(c: ReportContent) -> list:
    return [P("Names, decisions, dates and signatures are left blank to be filled in by the approvers."),
            Table(c.display_signoff(), "signoff", widths=(3, 5, 2.5, 2, 1.5, 2)),
            H3("Supervisory references"), Table(c.display_references(), "references", widths=(2.5, 5, 3, 6))]


def _glossary(c: ReportContent) -> list:
    return [P("Every statistic and term of this report in one plain sentence, with the reference a validator would cite; the "
              "dashboard shows the same sentences as tooltips (core.glossary).", "note"),
            Table(glossary_frame(), "glossary", widths=(2.5, 8, 4.5))]


def _appendix(c: ReportContent) -> list:
    return [H3("Settings"), Table(c.display_settings(), "text", widths=(3, 9)), H3("Hashes"), Table(c.display_hashes(), "meta", widths=(3, 9)),
            H3("Package versions"), Table(c.display_versions(), widths=(3, 3)),
            P(f"Generated by RiskPrune on {c.created_utc}. The run manifest (manifest.json) lists every setting, seed, package "
              "version and file hash needed to reproduce these numbers.", "note")]


BUILDERS = {"summary": _summary, "tradeoffs": _candidates, "change": _change, "alignment": _alignment, "data": _data,
            "performance": _performance, "rank": _rank, "calibration": _calibration, "stability": _stability, "explain": _explain,
            "fairness": _fairness, "decisions": _decisions, "limitations": _limitations, "monitoring": _monitoring,
            "signoff": _signoff, "glossary": _glossary, "appendix": _appendix}


def document(c: ReportContent) -> tuple[Section, ...]:
    """Every section of the report, in order, with its blocks (built once per content; every renderer walks the same)."""
    if "document" not in c._cache:
        c._cache["document"] = tuple(Section(sid, title, tuple(BUILDERS[sid](c))) for sid, title in c.sections)
    return c._cache["document"]


def meta_frame(c: ReportContent) -> pd.DataFrame:
    """The title page's identification table."""
    return pd.DataFrame([
        ("Model", c.model_name), ("Dataset", c.data_name), ("Report date (UTC)", c.created_utc),
        ("Model file SHA-256", c.model_sha256), ("Data file SHA-256", c.data_sha256 or "not given (data passed in memory)"),
        ("Prepared data fingerprint", c.data_fingerprint),
        ("Method", f"{c.method_label} at {fmt_pct(c.ratio)} — {c.state.upper()}"),
    ], columns=["Item", "Value"])
