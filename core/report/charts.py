"""Static charts of the report, drawn once with matplotlib (Agg) and shared as PNG bytes by the PDF, the deck and the DOCX.

Every chart plots an aggregate table from ``chart_data`` — deciles, bands, bins, curves of at most
101 points, one bar per layer, segment or seed — never one point per applicant, so the files stay
small whatever the row count. The HTML report draws the same tables with plotly (``core.report.html``),
so a number in a chart of any format is the same number.
"""
from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core.report.style import METHOD_PALETTE, ORIGINAL_COLOUR, PARETO_COLOUR, PRUNED_COLOUR  # noqa: E402

CHALLENGER_COLOUR = "#7f8c8d"  # grey: the benchmark, never one of the two model colours
PASS_COLOUR, FAIL_COLOUR = "#2e8b57", "#c0392b"
DPI = 110
SCORE_BINS = np.linspace(0.0, 1.0, 41)
TOP_FEATURES = 15
MAX_SEGMENTS = 24
MODEL_COLOURS = {"original": ORIGINAL_COLOUR, "pruned": PRUNED_COLOUR, "challenger": CHALLENGER_COLOUR}
MODEL_NAMES = {"original": "Original", "pruned": "Pruned", "challenger": "Logistic regression"}
SIZE_LABELS = {"parameters": "Stored parameters", "nonzeros": "Non-zero parameters", "file_bytes": "File bytes",
               "multiply_adds": "Multiply-adds"}


# --------------------------------------------------------------------------- the aggregate tables


def _fairness_frame(c) -> pd.DataFrame | None:
    f = c.fairness_frame
    if f is None or not len(f) or "air_original" not in f:
        return None
    return f.head(MAX_SEGMENTS).assign(group=lambda x: x["column"].astype(str) + " = " + x["segment"].astype(str))


def chart_data(c, name: str) -> pd.DataFrame | None:
    """The table a chart plots (None when the report has nothing to plot for it)."""
    pack = c.pack
    if name == "size":
        s = c.size[c.size["quantity"].isin(list(SIZE_LABELS))].copy()
        s["label"] = s["quantity"].map(SIZE_LABELS)
        s["share_of_original"] = np.where(s["original"] > 0, s["pruned"] / s["original"].where(s["original"] > 0, 1), np.nan)
        return s.reset_index(drop=True)
    if name == "sparsity":
        return c.layers
    if name == "tradeoff":
        return c.sweep_table
    if name == "performance":
        return None if pack is None else pack.performance_frame()
    if name in ("rank", "calibration"):
        if pack is None:
            return None
        parts = [r.to_frame().assign(model=m) for m, r in pack.rank.items()]
        return pd.concat(parts, ignore_index=True)
    if name == "capture":
        return None if pack is None else pack.capture
    if name == "scores":
        centres = (SCORE_BINS[:-1] + SCORE_BINS[1:]) / 2
        return pd.DataFrame({"centre": centres, "original": np.histogram(c.original_scores, SCORE_BINS)[0],
                             "pruned": np.histogram(c.pruned_scores, SCORE_BINS)[0]})
    if name == "seeds":
        return None if pack is None or pack.seed_stability is None else pack.seed_stability.table
    if name == "shift":
        return None if c.shift is None else c.shift.table.head(TOP_FEATURES)
    if name == "flips":
        return c.comparison.flips.summary_frame()
    if name == "fairness":
        return _fairness_frame(c)
    raise KeyError(name)


CHART_TITLES = {
    "size": "Model size, pruned as a share of the original",
    "sparsity": "Weights per layer",
    "tradeoff": "AUC vs non-zero parameters (every method and ratio)",
    "performance": "AUC with 95% interval: networks vs logistic-regression challenger",
    "rank": "Bad rate by band, safest to riskiest",
    "capture": "Cumulative capture of bads (CAP), riskiest applicants first",
    "calibration": "Predicted PD vs observed bad rate by band",
    "scores": "P(bad) distribution of evaluated applicants",
    "seeds": "Fine-tuning seeds: AUC and flipped decisions",
    "shift": "Mean |SHAP| per feature (top 15)",
    "flips": "Decisions that change at the same cutoff",
    "fairness": "Adverse impact ratio by segment (four-fifths line at 0.8)",
}


def available(c) -> list[str]:
    """Charts this report can draw, in report order."""
    return [n for n in CHART_TITLES if chart_data(c, n) is not None and len(chart_data(c, n))]


# --------------------------------------------------------------------------- matplotlib drawings


def _fig(height: float = 3.2, width: float = 7.5):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _size(c):
    d = chart_data(c, "size")
    fig, ax = _fig(2.8)
    y = np.arange(len(d))
    ax.barh(y + 0.2, np.ones(len(d)) * 100, 0.4, color=ORIGINAL_COLOUR, label="Original")
    ax.barh(y - 0.2, d["share_of_original"] * 100, 0.4, color=PRUNED_COLOUR, label="Pruned")
    for i, r in enumerate(d.itertuples(index=False)):
        ax.text(r.share_of_original * 100 + 1, i - 0.2, f"{int(r.pruned):,} of {int(r.original):,}", va="center", fontsize=7)
    ax.set_yticks(y, d["label"], fontsize=8)
    ax.set_xlim(0, 135)
    ax.set_xlabel("% of the original")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(CHART_TITLES["size"], fontsize=10)
    return fig


def _sparsity(c):
    f = c.layers
    fig, ax = _fig(3.0)
    x = np.arange(len(f))
    ax.bar(x - 0.2, f["total_weights"], 0.4, color=ORIGINAL_COLOUR, label="Original weights")
    ax.bar(x + 0.2, f["nonzero_weights"], 0.4, color=PRUNED_COLOUR, label="Non-zero after pruning")
    for i, s in enumerate(f["sparsity"]):
        ax.text(i + 0.2, f["nonzero_weights"].iloc[i], f"{s:.0%}", ha="center", va="bottom", fontsize=8)
    names = [str(v) for v in (f["label"] if "label" in f else f["layer"])]
    ax.set_xticks(x, names, fontsize=7, rotation=0 if len(names) <= 4 else 30, ha="center" if len(names) <= 4 else "right")
    ax.set_xlabel("layer")
    ax.set_ylabel("weights")
    ax.legend(fontsize=8)
    ax.set_title(CHART_TITLES["sparsity"], fontsize=10)
    return fig


def _tradeoff(c):
    t = c.sweep_table
    fig, ax = _fig(3.6)
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
    ax.set_title(CHART_TITLES["tradeoff"], fontsize=10)
    ax.legend(fontsize=6.5, loc="lower right")
    return fig


def _performance(c):
    d = chart_data(c, "performance")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7.5, 2.6), sharey=True)
    y = np.arange(len(d))[::-1]
    colours = [MODEL_COLOURS.get(m, "#555") for m in d["model"]]
    for ax, key, title in ((a1, "auc", "AUC"), (a2, "ks", "KS")):
        v, lo, hi = d[key].to_numpy(), d[f"{key}_low"].to_numpy(), d[f"{key}_high"].to_numpy()
        ax.errorbar(v, y, xerr=[v - lo, hi - v], fmt="none", ecolor="#333", capsize=4, lw=1)
        ax.scatter(v, y, c=colours, s=60, zorder=3)
        for yi, vi in zip(y, v):
            ax.text(vi, yi + 0.22, f"{vi:.4f}", ha="center", fontsize=7)
        ax.set_title(f"{title} (95% CI)", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(-0.6, len(d) - 0.4)
    a1.set_yticks(y, [MODEL_NAMES.get(m, m) for m in d["model"]], fontsize=8)
    fig.suptitle(CHART_TITLES["performance"], fontsize=10)
    fig.tight_layout()
    return fig


def _rank(c):
    d = chart_data(c, "rank")
    fig, ax = _fig(3.0)
    labels = list(dict.fromkeys(d["band"].astype(str)))
    x = np.arange(len(labels))
    for off, (m, part) in zip((-0.2, 0.2), d.groupby("model", sort=False)):
        pos = [labels.index(str(b)) for b in part["band"]]
        ax.bar(np.asarray(pos) + off, part["bad_rate"] * 100, 0.4, color=MODEL_COLOURS[m], label=MODEL_NAMES[m])
        inv = part["inversion"].to_numpy()
        for p, r, flag in zip(pos, part["bad_rate"], inv):
            if flag:
                ax.text(p + off, r * 100 + 1, "▼", ha="center", color=FAIL_COLOUR, fontsize=8)
    ax.set_xticks(x, labels, fontsize=7, rotation=30 if max(map(len, labels)) > 4 else 0)
    ax.set_ylabel("bad rate (%)")
    ax.set_xlabel(f"{c.pack.grade_source} (▼ = inversion)")
    ax.legend(fontsize=7)
    ax.set_title(CHART_TITLES["rank"], fontsize=10)
    return fig


def _capture(c):
    d = chart_data(c, "capture")
    fig, ax = _fig(3.2, 6.0)
    x = d["share_of_applicants"] * 100
    for m in ("original", "pruned", "challenger"):
        if m in d:
            ax.plot(x, d[m] * 100, color=MODEL_COLOURS[m], lw=1.6, label=MODEL_NAMES[m], ls="--" if m == "challenger" else "-")
    ax.plot(x, d["perfect"] * 100, color="#999", lw=1, ls=":", label="Perfect")
    ax.plot(x, d["random"] * 100, color="#bbb", lw=1, ls=":", label="Random")
    ax.set_xlabel("% of applicants, riskiest first")
    ax.set_ylabel("% of bads captured")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(CHART_TITLES["capture"], fontsize=10)
    return fig


def _calibration(c):
    d = chart_data(c, "calibration")
    fig, ax = _fig(3.2, 6.0)
    top = float(max(d["mean_pd"].max(), d["bad_rate"].max(), 0.05)) * 100 * 1.05
    ax.plot([0, top], [0, top], color="#bbb", ls=":", lw=1, label="Perfect calibration")
    for m, part in d.groupby("model", sort=False):
        ax.plot(part["mean_pd"] * 100, part["bad_rate"] * 100, "o-", color=MODEL_COLOURS[m], ms=4, lw=1.2, label=MODEL_NAMES[m])
    ax.set_xlabel("mean predicted P(bad) in band (%)")
    ax.set_ylabel("observed bad rate (%)")
    ax.legend(fontsize=7)
    ax.set_title(CHART_TITLES["calibration"], fontsize=10)
    return fig


def _scores(c):
    d = chart_data(c, "scores")
    fig, ax = _fig(2.8)
    w = SCORE_BINS[1] - SCORE_BINS[0]
    ax.bar(d["centre"], d["original"], w, color=ORIGINAL_COLOUR, alpha=0.6, label="Original")
    ax.bar(d["centre"], d["pruned"], w, color=PRUNED_COLOUR, alpha=0.6, label="Pruned")
    cut = c.comparison.cutoff.cutoff
    ax.axvline(cut, color="black", ls="--", lw=1, label=f"cutoff {cut:.4f}")
    ax.set_xlabel("P(bad)")
    ax.set_ylabel("applicants")
    ax.legend(fontsize=7)
    ax.set_title(CHART_TITLES["scores"], fontsize=10)
    return fig


def _seeds(c):
    d = chart_data(c, "seeds")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7.5, 2.6))
    x = np.arange(len(d))
    colours = [PRUNED_COLOUR if s else "#bbbbbb" for s in d["shipped"]]
    a1.bar(x, d["auc"], color=colours)
    a1.axhline(c.comparison.original.auc, color=ORIGINAL_COLOUR, ls="--", lw=1, label="Original")
    lo = float(min(d["auc"].min(), c.comparison.original.auc))
    a1.set_ylim(lo - 0.02, float(max(d["auc"].max(), c.comparison.original.auc)) + 0.01)
    a1.set_title("AUC per seed (orange = shipped)", fontsize=9)
    a1.legend(fontsize=7)
    a2.bar(x, d["flips"], color=colours)
    a2.set_title("Flipped decisions per seed", fontsize=9)
    for ax in (a1, a2):
        ax.set_xticks(x, [str(s) for s in d["seed"]])
        ax.set_xlabel("fine-tuning seed")
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(CHART_TITLES["seeds"], fontsize=10)
    fig.tight_layout()
    return fig


def _shift(c):
    t = chart_data(c, "shift").iloc[::-1]
    lvl = c.shift.level
    fig, ax = _fig(max(2.5, 0.26 * len(t) + 1))
    y = np.arange(len(t))
    ax.barh(y + 0.2, t["importance_original"], 0.4, color=ORIGINAL_COLOUR, label="Original")
    ax.barh(y - 0.2, t["importance_pruned"], 0.4, color=PRUNED_COLOUR, label="Pruned")
    ax.set_yticks(y, [("* " if f else "") + str(n)[:40] for n, f in zip(t[lvl], t["flagged"])], fontsize=7)
    ax.set_xlabel("mean |SHAP| (log-odds)")
    ax.set_title(f"Mean |SHAP| per {lvl} (top {len(t)}; * = flagged)", fontsize=10)
    ax.legend(fontsize=7)
    return fig


def _flips(c):
    f = chart_data(c, "flips")
    fig, ax = _fig(2.6)
    colours = [FAIL_COLOUR, FAIL_COLOUR, PASS_COLOUR, PASS_COLOUR]
    y = np.arange(len(f))[::-1]
    ax.barh(y, f["applicants"], color=colours)
    for yi, v in zip(y, f["applicants"]):
        ax.text(v, yi, f" {int(v):,}", va="center", fontsize=8)
    ax.set_yticks(y, f["change"], fontsize=8)
    ax.set_xlabel("applicants")
    ax.set_xlim(0, max(1, int(f["applicants"].max())) * 1.2)
    ax.set_title(CHART_TITLES["flips"], fontsize=10)
    return fig


def _fairness(c):
    d = chart_data(c, "fairness").iloc[::-1]
    fig, ax = _fig(max(2.4, 0.24 * len(d) + 1))
    y = np.arange(len(d))
    ax.barh(y + 0.2, d["air_original"], 0.4, color=ORIGINAL_COLOUR, label="Original")
    ax.barh(y - 0.2, d["air_pruned"], 0.4, color=PRUNED_COLOUR, label="Pruned")
    ax.axvline(0.8, color=FAIL_COLOUR, ls="--", lw=1, label="four-fifths (0.8)")
    ax.set_yticks(y, [g[:40] for g in d["group"]], fontsize=7)
    ax.set_xlabel("adverse impact ratio (approval rate / best group's)")
    ax.set_xlim(0, 1.1)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(CHART_TITLES["fairness"], fontsize=10)
    return fig


DRAW: dict[str, Callable] = {"size": _size, "sparsity": _sparsity, "tradeoff": _tradeoff, "performance": _performance,
                             "rank": _rank, "capture": _capture, "calibration": _calibration, "scores": _scores, "seeds": _seeds,
                             "shift": _shift, "flips": _flips, "fairness": _fairness}


def png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def draw(c, name: str) -> bytes:
    """One chart as PNG bytes (drawn now; ``ReportContent.chart`` caches it for every renderer)."""
    with plt.rc_context({"font.size": 8, "axes.titleweight": "bold"}):
        return png_bytes(DRAW[name](c))


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels from the PNG header (no image library needed)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
