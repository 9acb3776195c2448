"""The rows interactive views compute on: every evaluation row, or a stratified sample of a large book.

A slider move prunes, scores and compares; on a million applicants the scoring alone takes tens
of seconds. Above ``SAMPLE_ABOVE_ROWS`` evaluation rows the dashboard therefore computes its
interactive figures on a seeded sample stratified by outcome (the bad rate is kept exactly, so
AUC and KS stay comparable), says so on every page, and computes the headline figures once per
setting on every row beside them (``core.workspace.population``).

The sample size is deterministic, so a validator reproduces every number from the seed and the
model: it is the number of rows one slider move can score within ``SCORING_BUDGET``
multiply-adds (about one per weight for a dense network), kept between ``MIN_SAMPLE_ROWS`` and
``MAX_SAMPLE_ROWS``. At 10,000 rows with a 10 % bad rate the standard error of an AUC near 0.75
is about 0.006 (Hanley & McNeil 1982), small next to the changes a committee weighs — and the
all-rows figures are shown beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.cache import memoized
from core.data.dataset import stratified_sample
from core.errors import SpecError
from core.workspace.binding import Workspace

SAMPLE_ABOVE_ROWS = 100_000
MIN_SAMPLE_ROWS = 10_000
MAX_SAMPLE_ROWS = 50_000
SCORING_BUDGET = 4e9  # multiply-adds one slider move may spend scoring the sample (≈ 0.2 s on two cores)


@dataclass(frozen=True)
class SamplePlan:
    """How interactive views pick their rows: above ``above`` evaluation rows, ``rows`` of them (None: by model size)."""

    rows: int | None = None
    seed: int = 0
    above: int = SAMPLE_ABOVE_ROWS

    def __post_init__(self) -> None:
        if self.rows is not None and (not isinstance(self.rows, int | np.integer) or self.rows < 100):
            raise SpecError(f"An evaluation sample of {self.rows} rows is too small.", "Use at least 1,000 rows, or leave it automatic.")
        if self.above < 1:
            raise SpecError(f"The sampling threshold {self.above} must be a positive row count.", f"Use e.g. {SAMPLE_ABOVE_ROWS:,}.")

    @property
    def key(self) -> str:
        return f"sample {self.rows or 'auto'} above {self.above} seed {self.seed}"

    def to_dict(self) -> dict:
        return {"rows": self.rows, "seed": self.seed, "above": self.above}


def automatic_rows(n_parameters: int) -> int:
    """Rows one slider move can score within ``SCORING_BUDGET``, rounded down to a thousand, within the bounds."""
    rows = int(SCORING_BUDGET / max(int(n_parameters), 1)) // 1000 * 1000
    return int(np.clip(rows, MIN_SAMPLE_ROWS, MAX_SAMPLE_ROWS))


def sample_rows_for(ws: Workspace, plan: SamplePlan = SamplePlan()) -> int:
    """How many evaluation rows interactive views use under ``plan`` (all of them when the book is small)."""
    n = len(ws.eval_idx)
    if n <= plan.above:
        return n
    return min(n, plan.rows if plan.rows is not None else automatic_rows(ws.model.n_parameters))


@memoized(8)
def interactive_workspace(ws: Workspace, plan: SamplePlan = SamplePlan()) -> Workspace:
    """``ws`` itself when its evaluation rows are few, else the same workspace judged on a stratified sample.

    The sample's original scores are the bound ones (no rescoring), its training rows and the rows
    pruning decisions look at are the workspace's (so a page prunes the very model a full-row
    report exports), and ``Workspace.rows_label`` says on every page what the figures rest on.
    """
    if ws.is_sample:
        return ws
    n = len(ws.eval_idx)
    size = sample_rows_for(ws, plan)
    if size >= n:
        return ws
    pos = stratified_sample(ws.y_eval, size, plan.seed)
    note = (f"Interactive figures use a stratified sample of {len(pos):,} of the {n:,} evaluation rows (seed {plan.seed}); "
            "headline figures are also computed on every row.")
    sampled = ws.restricted(ws.eval_idx[pos], view=plan.key, note=note)
    return replace(sampled, sampled_from=n, reference_idx=ws.reference_rows)
