"""On a large book: the shown setting's headline figures on every evaluation row, beside the sample's.

Pages compute on the stratified sample (``ui.state.workspace``) so a slider move stays quick;
this panel scores the shown model on every evaluation row once per setting (memoised in
``core.workspace.population``), with a progress bar the first time, and draws both columns side
by side. Pages call it last, into a container placed under their headline metrics, so the
sample's figures are on screen while the all-rows ones are computed.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import RiskPruneError
from core.formatting import fmt_num, fmt_pct, fmt_points, fmt_signed, shown
from core.metrics.decisions import DEFAULT_LGD, DecisionRule
from core.workspace import PopulationFigures, Setting, population_figures
from ui.state import bound_workspace, workspace
from ui.widgets import download_csv, progress_to, show_error

_RATES = {"approval_rate", "approved_bad_rate", "flipped_share"}


def _cell(metric: str, value: float, signed: bool = False) -> str:
    """The printed figure, or why it does not exist (e.g. "undefined: nobody approved" for an empty approved book)."""
    if metric in _RATES:
        fmt = (lambda v: fmt_points(v, 2)) if signed else (lambda v: fmt_pct(v, 2))
    elif metric == "expected_loss":
        fmt = (lambda v: f"{v:+,.0f}") if signed else (lambda v: f"{v:,.0f}")
    else:
        fmt = (lambda v: fmt_signed(v, 4)) if signed else (lambda v: fmt_num(v, 4))
    return shown(metric, value, fmt)


def _display(fig: PopulationFigures) -> pd.DataFrame:
    t = fig.to_frame()
    rows = []
    for r in t.itertuples(index=False):
        rows.append({
            "figure": r.label,
            "original · sample": _cell(r.metric, r.sample_original), "pruned · sample": _cell(r.metric, r.sample_pruned),
            "change · sample": _cell(r.metric, r.sample_change, True),
            "original · all rows": _cell(r.metric, r.all_original), "pruned · all rows": _cell(r.metric, r.all_pruned),
            "change · all rows": _cell(r.metric, r.all_change, True),
        })
    return pd.DataFrame(rows)


def all_rows_panel(setting: Setting, rule: DecisionRule, key: str, exposure_column: str | None = None,
                   lgd: float = DEFAULT_LGD) -> None:
    """Nothing on a small book; on a large one the sample-vs-all-rows table of the shown setting."""
    try:
        sample = workspace()
        if not sample.is_sample:
            return
        full = bound_workspace()
    except RiskPruneError:
        return  # the page above already says why nothing can be computed
    st.markdown(f"**Sample and all rows** — the shown model on {sample.rows_label} and on every evaluation row")
    args = (full, sample, setting, rule, exposure_column, lgd)
    bar = None
    if not population_figures.cached(*args):
        bar = st.progress(0.0, text=f"Scoring all {len(full.eval_idx):,} evaluation rows with the shown model…")
    try:
        fig = population_figures(*args, progress=None if bar is None else progress_to(bar))
    except RiskPruneError as err:
        show_error(err, "The all-rows figures cannot be computed: ")
        return
    finally:
        if bar is not None:
            bar.empty()
    st.dataframe(_display(fig), hide_index=True, key=f"all_rows_{key}")
    st.caption(f"Sample: {fig.sample_label}. All rows: {fig.full_label} (scored in {fig.scoring_seconds:.1f} s, computed once "
               "per setting). Both at the decision rule resolved on their own rows.")
    download_csv(fig.to_frame(), "sample_and_all_rows.csv", key=f"csv_all_rows_{key}")
