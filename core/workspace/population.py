"""The headline figures of one setting on every evaluation row, beside the interactive sample's.

On a large book the pages compute on a stratified sample (``core.workspace.evaluation_sample``);
a committee still needs AUC, KS, PSI, flipped decisions, approval and bad rates and expected
loss on the whole population. They are computed once per setting (memoised): the model pruned on
the sample's workspace — the very model the pages show — is scored on every evaluation row in
batches, with progress, and compared with the original there at the decision rule resolved on
those rows. Rows that fitted a score map (a calibration split carved out of the sample) are left
out of the all-rows figures too, so no figure is computed on rows a map was fitted on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.alignment.rows import rows_for
from core.cache import memoized
from core.errors import SpecError
from core.metrics.comparison import Comparison, compare
from core.metrics.decisions import DEFAULT_LGD, DecisionRule, ExpectedLoss, expected_loss
from core.model.outputs import pbad_from_raw, raw_outputs
from core.progress import Progress, report
from core.workspace.binding import Workspace
from core.workspace.exposure import exposure_values
from core.workspace.operations import Setting, as_setting, compare_workspace, evaluation_workspace, prune_workspace

SCORING_BATCH = 65_536


@dataclass(frozen=True)
class PopulationFigures:
    """One setting's headline figures on the sample the pages use and on every evaluation row."""

    sample: Comparison
    full: Comparison
    sample_rows: int
    full_rows: int
    sample_label: str
    full_label: str
    scoring_seconds: float  # measured: scoring every evaluation row with the pruned model
    expected_loss_sample: ExpectedLoss | None = None
    expected_loss_full: ExpectedLoss | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per figure: original, pruned and change on the sample and on all rows."""
        rows = []
        for key, label, pick in _FIGURES:
            row = {"metric": key, "label": label}
            for where, comp in (("sample", self.sample), ("all", self.full)):
                o, p = pick(comp)
                row.update({f"{where}_original": o, f"{where}_pruned": p, f"{where}_change": p - o})
            rows.append(row)
        if self.expected_loss_sample is not None and self.expected_loss_full is not None:
            row = {"metric": "expected_loss", "label": f"Expected loss of the approved book (LGD {self.expected_loss_full.lgd:.0%})"}
            for where, el in (("sample", self.expected_loss_sample), ("all", self.expected_loss_full)):
                row.update({f"{where}_original": el.expected_loss_original, f"{where}_pruned": el.expected_loss_pruned,
                            f"{where}_change": el.expected_loss_pruned - el.expected_loss_original})
            rows.append(row)
        return pd.DataFrame(rows)


_FIGURES = (
    ("auc", "AUC", lambda c: (c.original.auc, c.pruned.auc)),
    ("gini", "Gini", lambda c: (c.original.gini, c.pruned.gini)),
    ("ks", "KS", lambda c: (c.original.ks, c.pruned.ks)),
    ("psi", "PSI of the pruned scores (original = 0)", lambda c: (0.0, c.psi.value)),
    ("cutoff", "Cutoff (P(bad) at or above: decline)", lambda c: (c.cutoff.cutoff, c.cutoff.cutoff)),
    ("approval_rate", "Approval rate", lambda c: (c.original.approval_rate, c.pruned.approval_rate)),
    ("approved_bad_rate", "Bad rate of approved", lambda c: (c.original.approved_bad_rate, c.pruned.approved_bad_rate)),
    ("flipped_share", "Decisions flipped (share)", lambda c: (0.0, c.flips.share)),
)


def score_all(module, X: np.ndarray, kind: str, progress: Progress | None = None, what: str = "scoring") -> np.ndarray:
    """P(bad) of every row, a batch at a time, reporting progress after each batch."""
    n = len(X)
    parts = []
    for start in range(0, n, SCORING_BATCH):
        parts.append(pbad_from_raw(raw_outputs(module, X[start:start + SCORING_BATCH]), kind))
        report(progress, min(start + SCORING_BATCH, n), n, what)
    return np.concatenate(parts) if parts else np.zeros(0)


def _full_rows(full: Workspace, sample: Workspace, setting: Setting) -> Workspace:
    """Every evaluation row of ``full`` except rows a calibration map was fitted on."""
    if not setting.alignment.active:
        return full
    rows = rows_for(sample, setting.alignment)
    if not rows.shrinks_eval:
        return full
    keep = np.setdiff1d(full.eval_idx, rows.fit_idx, assume_unique=True)
    return full.restricted(keep, view=f"all rows but the calibration split {rows.key}",
                           note=f"{len(rows.fit_idx):,} calibration rows are left out of the all-rows figures.")


@memoized(16)
def population_figures(full: Workspace, sample: Workspace, setting: Setting, rule: DecisionRule = DecisionRule(),
                       exposure_column: str | None = None, lgd: float = DEFAULT_LGD,
                       progress: Progress | None = None) -> PopulationFigures:
    """``setting``'s figures on ``sample`` (the interactive workspace) and on every evaluation row of ``full``.

    ``sample`` must be ``interactive_workspace(full, …)``. With ``exposure_column`` the expected
    loss of each approved book is added (PD × LGD × EAD, BCBS 2006 ¶272).
    """
    if not sample.is_sample or sample.sampled_from != len(full.eval_idx):
        raise SpecError("All-rows figures compare a sample with the workspace it was drawn from.",
                        "Pass the bound workspace and interactive_workspace(...) of it.")
    setting = as_setting(setting)
    ws_sample = evaluation_workspace(sample, setting)
    pruned = prune_workspace(ws_sample, setting, progress=progress)
    ws_full = _full_rows(full, sample, setting)
    t0 = time.perf_counter()
    scores = score_all(pruned.result.module, ws_full.X_eval, ws_full.output.kind, progress,
                       f"scoring all {len(ws_full.eval_idx):,} evaluation rows")
    seconds = time.perf_counter() - t0
    cutoff = rule.resolve(ws_full.y_eval, ws_full.original_scores)
    full_cmp = compare(ws_full.y_eval, ws_full.original_scores, scores, cutoff=cutoff.cutoff, row_ids=ws_full.eval_idx)
    sample_cmp = compare_workspace(ws_sample, pruned, rule)
    el_sample = el_full = None
    if exposure_column is not None:
        el_sample = _expected_loss(ws_sample, pruned.scores, sample_cmp, exposure_column, lgd)
        el_full = _expected_loss(ws_full, scores, full_cmp, exposure_column, lgd)
    return PopulationFigures(
        sample=sample_cmp, full=full_cmp, sample_rows=len(ws_sample.eval_idx), full_rows=len(ws_full.eval_idx),
        sample_label=ws_sample.rows_label,
        full_label=(f"all {len(ws_full.eval_idx):,} evaluation rows" if ws_full is full
                    else f"all {len(ws_full.eval_idx):,} evaluation rows outside the calibration split"),
        scoring_seconds=seconds,
        expected_loss_sample=el_sample, expected_loss_full=el_full,
    )


def _expected_loss(ws: Workspace, scores: np.ndarray, comp: Comparison, column: str, lgd: float) -> ExpectedLoss:
    return expected_loss(ws.y_eval, ws.original_scores, scores, exposure_values(ws, column), cutoff=comp.cutoff.cutoff, lgd=lgd,
                         exposure_column=column)
