"""Score alignment as part of a setting: fitted on rows that are never evaluated, carried by every view."""
from __future__ import annotations

import numpy as np
import pytest

from core.alignment import AlignmentSpec
from core.metrics import DecisionRule
from core.prune import PruneSpec
from core.workspace import Setting, bind, compare_workspace, evaluation_workspace, prune_view, prune_workspace

SPEC = PruneSpec.make("neuron_l1", 0.5)


def test_alignment_on_a_holdout_workspace_fits_on_training_rows_and_keeps_the_ranking(sample_holdout):
    ws = sample_holdout
    setting = Setting(SPEC, alignment=AlignmentSpec("to_original"))
    assert evaluation_workspace(ws, setting) is ws  # the training split fits the map: evaluation rows unchanged
    raw, aligned = prune_workspace(ws, SPEC), prune_workspace(ws, setting)
    assert aligned.key != raw.key and aligned.result.alignment["fitted_on"] == f"{len(ws.train_idx):,} rows of the training split"
    c_raw, c_al = compare_workspace(ws, raw), compare_workspace(ws, aligned)
    assert c_al.pruned.auc == pytest.approx(c_raw.pruned.auc, abs=1e-12)  # a positive affine map keeps the order
    assert c_al.psi.value < c_raw.psi.value


def test_alignment_without_a_training_split_carves_calibration_rows_out_of_the_evaluation_rows(sample_model, sample_frame):
    ws = bind(sample_model, sample_frame, "creditability", "bad", eval_mode="all")
    setting = Setting(SPEC, alignment=AlignmentSpec("to_original"))
    narrowed = evaluation_workspace(ws, setting)
    assert len(narrowed.eval_idx) < len(ws.eval_idx) and len(narrowed.train_idx) > 0
    assert not set(narrowed.eval_idx) & set(narrowed.train_idx)  # fit rows are never evaluation rows
    assert set(narrowed.eval_idx) | set(narrowed.train_idx) == set(ws.eval_idx)
    np.testing.assert_array_equal(narrowed.original_scores, ws.original_scores[np.searchsorted(ws.eval_idx, narrowed.eval_idx)])
    assert narrowed.key != ws.key and "calibration" in narrowed.split_note
    view = prune_view(ws, setting, DecisionRule())  # a page passes the bound workspace; the view narrows it
    assert view.comparison.flips.n == len(narrowed.eval_idx)
    assert "calibration split" in view.pruned.result.alignment["fitted_on"]
