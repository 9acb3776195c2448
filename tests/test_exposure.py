"""Expected loss without a usable amount column: which column is guessed, why one cannot be an exposure, and the
constant 1-unit-per-applicant fallback the Decision impact page and the report share."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from core.errors import SpecError
from core.metrics import DecisionRule
from core.model import load_model
from core.prune import PruneSpec
from core.validation import PackOptions, build_pack
from core.workspace import (
    PER_APPLICANT,
    Setting,
    bind,
    compare_workspace,
    decision_view,
    exposure_columns,
    exposure_guess,
    exposure_problem,
    exposure_values,
    prune_workspace,
)


@pytest.fixture(scope="module")
def book_ws(sample_model, sample_frame):
    """The sample bound with extra numeric columns: a standardised amount, a clean balance, an all-zero limit."""
    frame = sample_frame.copy()
    rng = np.random.default_rng(0)
    amount = frame["credit_amount"].astype(float)
    frame["amount_std"] = (amount - amount.mean()) / amount.std()
    frame["balance"] = rng.integers(100, 5000, len(frame)).astype(float)
    frame["credit_limit"] = 0.0
    frame["heading"] = rng.integers(1, 9, len(frame))  # "ead" hides in its name: not an exposure word
    return bind(sample_model, frame, "creditability", "bad")


def test_a_standardised_or_all_zero_column_is_never_guessed(book_ws):
    cols = {c.name: c for c in exposure_columns(book_ws)}
    assert "negative values" in cols["amount_std"].problem and "standardised" in cols["amount_std"].problem
    assert "zero for every" in cols["credit_limit"].problem
    assert cols["balance"].usable and cols["credit_amount"].usable and cols["age_in_years"].usable
    assert cols["heading"].name_rank is None and cols["age_in_years"].name_rank is None
    assert exposure_guess(exposure_columns(book_ws)) == "credit_amount"  # "amount" outranks "balance"


def test_without_a_usable_named_column_there_is_no_guess(book_ws):
    usable_unnamed = tuple(c for c in exposure_columns(book_ws) if c.name in ("amount_std", "credit_limit", "age_in_years", "heading"))
    assert exposure_guess(usable_unnamed) is None  # "age" is finite and positive, but not an amount


def test_problems_name_missing_negative_and_zero_values():
    assert exposure_problem([1.0, np.nan, 3.0], "x") == "'x' is missing or not a number for 1 of 3 evaluated applicants"
    assert exposure_problem([1.0, -2.5], "x").startswith("'x' has negative values (down to -2.50)")
    assert exposure_problem([0, 0], "x") == "'x' is zero for every evaluated applicant"
    assert exposure_problem([0, 5000.0], "x") is None


def test_one_unit_per_applicant_counts_expected_defaults_times_lgd(sample_holdout):
    ws = sample_holdout
    view = decision_view(ws, Setting(PruneSpec.make("neuron_l1", 0.5)), DecisionRule())
    el = view.expected_loss(PER_APPLICANT, lgd=0.5)
    approved_o = view.ws.original_scores < view.comparison.cutoff.cutoff
    assert el.approved_exposure_original == approved_o.sum()  # one unit each: the approved count
    assert el.expected_loss_original == pytest.approx(0.5 * view.ws.original_scores[approved_o].sum())
    assert el.observed_loss_original == pytest.approx(0.5 * view.ws.y_eval[approved_o].sum())
    assert view.exposure_problem(PER_APPLICANT) is None
    assert np.array_equal(exposure_values(ws, PER_APPLICANT), np.ones(len(ws.eval_idx)))


def test_an_unusable_column_is_refused_with_its_reason(book_ws):
    view = decision_view(book_ws, Setting(PruneSpec.make("magnitude_layer", 0.3)), DecisionRule())
    assert view.exposure_guess == "credit_amount" and "amount_std" in view.exposure_columns
    assert "negative values" in view.exposure_problem("amount_std")
    with pytest.raises(SpecError, match="negative values"):
        view.expected_loss("amount_std")
    assert view.expected_loss("balance").approved_exposure_original > 0


def test_the_report_falls_back_to_one_unit_per_applicant_and_says_so():
    """A file whose only numeric columns are model inputs on a standard scale: the pack counts expected defaults."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x1": rng.normal(size=300), "x2": rng.normal(size=300)})
    frame["y"] = np.where(frame["x1"] + rng.normal(size=300) > 0.5, "bad", "good")
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)).eval()), buffer)
    ws = bind(load_model(buffer.getvalue(), "tiny.pt"), frame, "y", "bad", feature_columns=["x1", "x2"])
    setting = Setting(PruneSpec.make("magnitude_layer", 0.3))
    pruned = prune_workspace(ws, setting)
    pack = build_pack(ws, setting, pruned, compare_workspace(ws, pruned), options=PackOptions(challenger=None, stability_seeds=0))
    assert pack.expected_loss is not None and pack.expected_loss.exposure_column == PER_APPLICANT
    assert any("one unit of exposure" in line for line in pack.limitations)


@pytest.mark.parametrize("given, passed", [(None, None), ("none", ""), ("per-applicant", PER_APPLICANT), ("loan_amount", "loan_amount")])
def test_the_cli_exposure_option_guesses_skips_counts_per_applicant_or_names_a_column(given, passed):
    from core.cli import _exposure

    assert _exposure(given) == passed


def test_a_file_that_differs_only_in_a_column_the_model_does_not_read_is_its_own_workspace(sample_model, sample_frame):
    """Same model inputs, another loan amount: the memoised operations must not hand out the first file's rows."""
    from core.workspace import interactive_workspace

    first = bind(sample_model, sample_frame.assign(extra_amount=1000.0), "creditability", "bad")
    second = bind(sample_model, sample_frame.assign(extra_amount=-1.0), "creditability", "bad")
    assert first.key != second.key
    assert interactive_workspace(first) is first and interactive_workspace(second) is second
    assert {c.name: c.usable for c in exposure_columns(interactive_workspace(second))}["extra_amount"] is False
