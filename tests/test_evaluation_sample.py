"""Large books: interactive views on a stratified, seeded, labelled sample; headline figures also on every row."""
from __future__ import annotations

import numpy as np
import pytest

from core.alignment.spec import AlignmentSpec
from core.errors import SpecError
from core.metrics.comparison import compare
from core.metrics.decisions import DecisionRule
from core.model.loading import load_model
from core.model.outputs import predict_pbad
from core.prune.spec import PruneSpec
from core.workspace import SamplePlan, Setting, automatic_rows, bind, interactive_workspace, population_figures, prune_workspace
from tests.builders import TARGET, model_bytes, model_columns, synthetic_book, trained_mlp

N_ROWS = 150_000


@pytest.fixture(scope="module")
def large_workspace():
    frame = synthetic_book(N_ROWS, seed=3)
    model = load_model(model_bytes(trained_mlp(frame.iloc[:3000], epochs=30)), "large.pt")
    return bind(model, frame, TARGET, "yes", feature_columns=model_columns(), eval_mode="all")


def test_a_small_book_is_used_whole(sample_model, sample_frame):
    ws = bind(sample_model, sample_frame, "creditability", "bad", eval_mode="all")
    assert interactive_workspace(ws) is ws
    assert not ws.is_sample and ws.rows_label == f"all {len(ws.eval_idx):,} rows"


def test_a_large_book_is_sampled_by_outcome_with_a_seed_and_says_so(large_workspace):
    ws = large_workspace
    sample = interactive_workspace(ws, SamplePlan(rows=20_000, seed=5))
    assert sample.is_sample and len(sample.eval_idx) == pytest.approx(20_000, abs=2)
    assert sample.rows_label == f"a stratified sample of {len(sample.eval_idx):,} of the {N_ROWS:,} evaluation rows"
    assert "seed 5" in sample.split_note
    # stratified: the bad rate is the book's to within one applicant
    assert abs(sample.y_eval.mean() - ws.y_eval.mean()) <= 1 / len(sample.eval_idx)
    # the original's scores are the bound ones on exactly those rows (nothing rescored, nothing reordered)
    pos = np.searchsorted(ws.eval_idx, sample.eval_idx)
    assert np.array_equal(sample.original_scores, ws.original_scores[pos])
    # reproducible from the seed; another seed draws other rows; the key tells them apart
    again = interactive_workspace(ws, SamplePlan(rows=20_000, seed=5))
    other = interactive_workspace(ws, SamplePlan(rows=20_000, seed=6))
    assert np.array_equal(again.eval_idx, sample.eval_idx) and not np.array_equal(other.eval_idx, sample.eval_idx)
    assert len({ws.key, sample.key, other.key}) == 3
    # sampling a sample is a no-op: the label must never claim a sample of a sample
    assert interactive_workspace(sample) is sample


def test_the_automatic_size_scales_down_with_the_model_and_stays_within_bounds(large_workspace):
    assert automatic_rows(10_000) == 50_000
    assert automatic_rows(100_000) == 40_000 and automatic_rows(407_041) == 10_000
    assert automatic_rows(10**9) == 10_000
    auto = interactive_workspace(large_workspace)
    assert len(auto.eval_idx) == pytest.approx(automatic_rows(large_workspace.model.n_parameters), abs=2)
    assert interactive_workspace(large_workspace, SamplePlan(above=N_ROWS)) is large_workspace


def test_sample_plans_refuse_nonsense():
    with pytest.raises(SpecError):
        SamplePlan(rows=10)
    with pytest.raises(SpecError):
        SamplePlan(above=0)


def test_all_rows_figures_are_the_sampled_pages_model_scored_on_every_row(large_workspace):
    ws = large_workspace
    sample = interactive_workspace(ws, SamplePlan(rows=12_000))
    setting = Setting(PruneSpec("magnitude_global", 0.6))
    rule = DecisionRule(approval_rate=0.7)
    seen = []
    figures = population_figures(ws, sample, setting, rule, exposure_column="loan_amount",
                                 progress=lambda d, t, w: seen.append((d, t)))
    pruned = prune_workspace(sample, setting)
    full_scores = predict_pbad(pruned.result.module, ws.X_eval, ws.output.kind)
    reference = compare(ws.y_eval, ws.original_scores, full_scores, approval_rate=0.7)
    assert figures.full.pruned.auc == pytest.approx(reference.pruned.auc, abs=1e-12)
    assert figures.full.flips.count == reference.flips.count
    assert figures.full.cutoff.cutoff == reference.cutoff.cutoff
    assert figures.sample.pruned.auc == pytest.approx(compare(sample.y_eval, sample.original_scores, pruned.scores,
                                                              approval_rate=0.7).pruned.auc, abs=1e-12)
    assert (figures.full_rows, figures.sample_rows) == (N_ROWS, len(sample.eval_idx))
    assert figures.full_label == f"all {N_ROWS:,} evaluation rows"
    assert seen[-1] == (N_ROWS, N_ROWS) and len(seen) >= 2  # batch progress up to every row
    frame = figures.to_frame().set_index("metric")
    assert {"auc", "ks", "psi", "approval_rate", "approved_bad_rate", "flipped_share", "expected_loss"} <= set(frame.index)
    assert frame.loc["auc", "all_pruned"] == figures.full.pruned.auc
    ead = ws.data.frame["loan_amount"].to_numpy()
    approved = full_scores < figures.full.cutoff.cutoff
    assert frame.loc["expected_loss", "all_pruned"] == pytest.approx((full_scores * 0.45 * ead)[approved].sum())


def test_rows_that_fitted_a_score_map_stay_out_of_the_all_rows_figures(large_workspace):
    ws = large_workspace
    sample = interactive_workspace(ws, SamplePlan(rows=12_000))
    setting = Setting(PruneSpec("magnitude_global", 0.5), alignment=AlignmentSpec("to_original"))
    figures = population_figures(ws, sample, setting)
    fitted_on = len(sample.eval_idx) - figures.sample_rows
    assert fitted_on > 0 and figures.full_rows == N_ROWS - fitted_on
    assert "outside the calibration split" in figures.full_label


def test_all_rows_figures_need_the_workspace_the_sample_came_from(large_workspace, sample_model, sample_frame):
    small = bind(sample_model, sample_frame, "creditability", "bad", eval_mode="all")
    with pytest.raises(SpecError):
        population_figures(small, interactive_workspace(large_workspace), Setting(PruneSpec()))


def test_a_large_book_is_swept_on_its_sample_and_the_sweep_says_which_rows(large_workspace):
    from core.workspace import sweep_workspace

    result = sweep_workspace(large_workspace, DecisionRule(), 0, methods=("magnitude_global",), ratios=(0.0, 0.5))
    sample = interactive_workspace(large_workspace)
    assert result.rows == sample.rows_label and "stratified sample" in result.rows
    assert result.original["auc"] == pytest.approx(compare(sample.y_eval, sample.original_scores,
                                                           sample.original_scores).original.auc, abs=1e-12)


def test_a_data_driven_pruning_choice_is_the_same_on_the_sample_and_on_every_row(large_workspace):
    """Input-variable pruning ranks inputs by their spread on reference rows: a bounded, seeded set the sample inherits."""
    from core.workspace.binding import REFERENCE_ROWS

    ws = large_workspace
    sample = interactive_workspace(ws, SamplePlan(rows=12_000, seed=4))
    assert len(ws.reference_rows) == pytest.approx(REFERENCE_ROWS, abs=2)
    assert np.array_equal(sample.reference_rows, ws.reference_rows)
    spec = PruneSpec.make("input_features", 0.4)
    on_sample, on_all = prune_workspace(sample, spec).result, prune_workspace(ws, spec).result
    assert on_sample.reference_key == on_all.reference_key and on_sample.dropped_inputs == on_all.dropped_inputs and on_all.dropped_inputs
    X = ws.X_eval[:500]
    assert np.array_equal(predict_pbad(on_sample.module, X, ws.output.kind), predict_pbad(on_all.module, X, ws.output.kind))
