"""Missing values: a visible choice (drop, impute, pass-through) with documented rows and numbers, recorded.

Every file here is built by the test as bytes and read through ``read_table``, as an upload is.
Expected numbers are computed independently with numpy/pandas on the same rows (the reference),
never copied from the implementation.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from core.data import DROP, IMPUTE, PASS_THROUGH, FeatureSchema, MissingValues, MissingValuesError, prepare_dataset, read_table
from core.errors import DataError
from core.model import load_model, model_to_bytes
from core.workspace import bind

N = 40


def _book(seed: int = 0) -> pd.DataFrame:
    """A small complete book: two numeric inputs, one categorical, a 0/1 default flag (bad rate 30 %)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "income": rng.normal(3000, 800, N).round(2),
        "debt": rng.normal(1.0, 0.3, N).round(3),
        "home": rng.choice(["own", "rent", "mortgage"], N),
        "default": np.array([1] * 12 + [0] * 28)[rng.permutation(N)],
    })


def _csv_with_gaps() -> tuple[bytes, pd.DataFrame]:
    """The book as CSV with income empty in rows 3 and 17, debt = inf in row 8 and -inf in row 17."""
    frame = _book()
    text = frame.astype(object)
    text.loc[[3, 17], "income"] = ""
    text.loc[8, "debt"] = "inf"
    text.loc[17, "debt"] = "-inf"
    return text.to_csv(index=False).encode(), frame


AFFECTED = [3, 8, 17]


def _read(data: bytes, name: str = "book.csv") -> pd.DataFrame:
    return read_table(data, name).frame


def test_missing_and_infinite_inputs_without_a_choice_raise_counts_and_three_choices():
    data, clean = _csv_with_gaps()
    frame = _read(data)
    with pytest.raises(MissingValuesError) as info:
        prepare_dataset(frame, "default", "1", feature_columns=["income", "debt"])
    err = info.value
    assert isinstance(err, DataError) and "\n" not in str(err)
    assert err.n_rows == N and err.n_rows_affected == 3 and err.n_rows_without_target == 0
    counts = {c.column: (c.n_missing, c.n_infinite) for c in err.columns}
    assert counts == {"income": (2, 0), "debt": (2, 2)}
    assert "3 row(s) have missing or infinite inputs (first in column 'income')" in err.message
    y = clean["default"].to_numpy()
    rest = np.setdiff1d(np.arange(N), AFFECTED)
    assert err.bad_rate_affected == pytest.approx(y[AFFECTED].mean())
    assert err.bad_rate_complete == pytest.approx(y[rest].mean())
    assert [c.strategy for c in err.choices] == [DROP, IMPUTE, PASS_THROUGH]
    drop = err.choices[0].consequence
    assert "Leaves out 3 row(s) (7.50% of the data" in drop and f"{y[AFFECTED].mean():.1%}" in drop
    assert err.to_frame()["missing"].tolist() == [2, 2]


def test_drop_leaves_out_exactly_the_affected_rows_keeps_file_row_numbers_and_compares_bad_rates():
    data, clean = _csv_with_gaps()
    frame = _read(data)
    ds = prepare_dataset(frame, "default", "1", feature_columns=["income", "debt"], missing="drop")
    kept = np.setdiff1d(np.arange(N), AFFECTED)
    np.testing.assert_array_equal(ds.row_ids, kept)
    np.testing.assert_array_equal(ds.X, clean.loc[kept, ["income", "debt"]].to_numpy(dtype=np.float32))
    np.testing.assert_array_equal(ds.y, clean.loc[kept, "default"].to_numpy())
    assert list(ds.frame.index) == list(kept)  # raw rows stay aligned with X and traceable to the file
    m = ds.missing
    assert (m.strategy, m.n_rows_read, m.n_rows_used, m.n_rows_dropped) == (DROP, N, N - 3, 3)
    assert m.share_dropped == pytest.approx(3 / N)
    np.testing.assert_array_equal(m.dropped_rows, AFFECTED)
    y = clean["default"].to_numpy()
    assert m.bad_rate_affected == pytest.approx(y[AFFECTED].mean())
    assert m.bad_rate_complete == pytest.approx(y[kept].mean())
    assert "drop them — 3 row(s) left out" in m.summary


def test_impute_without_schema_fills_the_median_of_the_rows_that_have_a_value():
    data, clean = _csv_with_gaps()
    ds = prepare_dataset(_read(data), "default", "1", feature_columns=["income", "debt"], missing=MissingValues(IMPUTE))
    assert ds.n_rows == N and ds.missing.n_rows_dropped == 0
    income_median = float(np.median(clean["income"].drop(index=[3, 17])))
    debt_median = float(np.median(clean["debt"].drop(index=[8, 17])))
    assert ds.X[3, 0] == np.float32(income_median) and ds.X[17, 0] == np.float32(income_median)
    assert ds.X[8, 1] == np.float32(debt_median) and ds.X[17, 1] == np.float32(debt_median)
    untouched = np.setdiff1d(np.arange(N), AFFECTED)
    np.testing.assert_array_equal(ds.X[untouched], clean.loc[untouched, ["income", "debt"]].to_numpy(dtype=np.float32))
    fills = {i.column: i for i in ds.missing.imputations}
    assert fills["income"].value == pytest.approx(income_median) and fills["income"].n_filled == 2
    assert "median of the 38 rows" in fills["income"].source
    assert ds.missing.to_frame().set_index("variable").loc["debt", "of which infinite"] == 2


def test_impute_with_a_schema_uses_its_training_mean_and_mode():
    train = _book(seed=1)
    schema = FeatureSchema.fit(train, ["income", "home"])
    mode = train["home"].value_counts().idxmax()
    assert schema.features[1].mode == mode
    frame = _book(seed=2).astype({"income": float, "home": object})
    frame.loc[5, "income"] = np.nan
    frame.loc[9, "home"] = None
    ds = prepare_dataset(frame, "default", "1", schema=schema, missing="impute")
    assert ds.X[5, 0] == 0.0  # the training mean standardises to exactly 0
    onehot = dict(zip(schema.input_names[1:], ds.X[9, 1:]))
    assert onehot == {f"home={c}": float(c == mode) for c in schema.features[1].categories}
    sources = {i.column: i.source for i in ds.missing.imputations}
    assert "training mean" in sources["income"] and "training category" in sources["home"]


def test_impute_with_a_schema_that_records_no_mode_uses_the_datas_most_frequent_category_and_says_so():
    train = _book(seed=1)
    fitted = FeatureSchema.fit(train, ["home"])
    old_style = FeatureSchema.from_json(fitted.to_json().replace(f'"mode": "{fitted.features[0].mode}"', '"mode": null'))
    frame = _book(seed=3).astype({"home": object})
    frame.loc[0, "home"] = None
    expected = frame["home"].dropna().value_counts()
    top = min(expected.index[expected == expected.max()])
    ds = prepare_dataset(frame, "default", "1", schema=old_style, missing="impute")
    fill = ds.missing.imputations[0]
    assert fill.value == top and "schema records no training mode" in fill.source
    assert ds.X[0, list(old_style.features[0].categories).index(top)] == 1.0


class _HandlesNaN(nn.Module):
    """A model that replaces NaN inputs by 0 itself (and shifts its logit, so it is no plain Linear chain)."""

    def __init__(self, shift: float = 0.5) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.lin = nn.Linear(2, 1)
        self.shift = shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(torch.nan_to_num(x, nan=0.0)) + self.shift


def _plain_mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)).eval()


def test_pass_through_gives_the_model_nan_and_is_accepted_when_its_outputs_are_finite():
    data, _ = _csv_with_gaps()
    frame = _read(data)
    model = load_model(model_to_bytes(torch.jit.script(_HandlesNaN().eval())))
    ws = bind(model, frame, "default", "1", feature_columns=["income", "debt"], missing="pass-through")
    assert np.isnan(ws.data.X[AFFECTED]).any(axis=1).all()
    assert not np.isinf(ws.data.X).any()  # ±inf reaches the model as NaN: infinite counts as missing
    assert np.isfinite(ws.original_scores).all() and len(ws.original_scores) == N
    assert ws.missing_values.strategy == PASS_THROUGH
    assert "finite scores on all 3 probed row(s)" in ws.missing_values.probe


def test_pass_through_is_refused_for_a_model_that_returns_nan_on_missing_inputs():
    data, _ = _csv_with_gaps()
    model = load_model(model_to_bytes(_plain_mlp()))
    with pytest.raises(DataError) as info:
        bind(model, _read(data), "default", "1", feature_columns=["income", "debt"], missing="pass_through")
    assert "does not handle missing values itself" in info.value.message
    assert "3 of 3 probed row(s)" in info.value.message and "drop or impute" in info.value.hint


def test_pass_through_says_so_when_only_the_uploaded_model_and_not_its_rebuilt_copy_handles_nan():
    # With no shift the module looks like a plain Linear chain: the loader rebuilds an eager twin
    # (verified on finite inputs) that drops nan_to_num. Pass-through must not score with NaN then.
    data, _ = _csv_with_gaps()
    model = load_model(model_to_bytes(torch.jit.script(_HandlesNaN(shift=0.0).eval())))
    assert model.eager is not None
    with pytest.raises(DataError, match="rebuilt copy RiskPrune prunes and scores with does not") as info:
        bind(model, _read(data), "default", "1", feature_columns=["income", "debt"], missing="pass_through")
    assert "drop or impute" in info.value.hint


def test_rows_without_an_outcome_are_left_out_under_every_choice_and_counted():
    frame = _book().astype({"default": float})
    frame.loc[[4, 30], "default"] = np.nan
    with pytest.raises(MissingValuesError, match=r"target column 'default' is empty in 2 row\(s\)") as info:
        prepare_dataset(frame, "default", "1", feature_columns=["income", "debt"])
    assert "Remove rows without an outcome" in info.value.hint
    for choice in (DROP, IMPUTE, PASS_THROUGH):
        ds = prepare_dataset(frame, "default", "1", feature_columns=["income", "debt"], missing=choice)
        assert ds.n_rows == N - 2 and 4 not in ds.row_ids and 30 not in ds.row_ids
        assert ds.missing.n_rows_without_target == 2 and "2 row(s) without an outcome" in ds.missing.summary


def test_the_choice_is_recorded_on_the_workspace_and_prints_as_json():
    data, _ = _csv_with_gaps()
    model = load_model(model_to_bytes(_plain_mlp()))
    ws = bind(model, _read(data), "default", "1", feature_columns=["income", "debt"], missing="drop", eval_mode="all")
    record = json.loads(json.dumps(ws.missing_values.to_dict()))
    assert record["strategy"] == "drop" and record["rows_dropped"] == 3 and record["dropped_rows"] == AFFECTED
    assert record["columns"][0]["column"] == "income" and record["summary"] == ws.missing_values.summary
    np.testing.assert_array_equal(ws.eval_row_ids, np.setdiff1d(np.arange(N), AFFECTED))


def test_a_clean_file_records_that_nothing_was_missing():
    ds = prepare_dataset(_book(), "default", "1", feature_columns=["income", "debt"])
    assert ds.missing.strategy is None and not ds.missing.anything_missing
    assert ds.missing.summary.startswith("No missing or infinite values")
    np.testing.assert_array_equal(ds.row_ids, np.arange(N))


def test_dropping_every_bad_row_is_refused_instead_of_evaluating_one_outcome():
    frame = _book()
    frame.loc[frame["default"] == 1, "income"] = np.nan
    with pytest.raises(DataError, match="only one outcome is left") as info:
        prepare_dataset(frame, "default", "1", feature_columns=["income", "debt"], missing="drop")
    assert "impute" in info.value.hint


def test_impute_of_a_column_without_any_value_is_refused():
    frame = _book().assign(income=np.nan)
    with pytest.raises(DataError, match="no value in any row"):
        prepare_dataset(frame, "default", "1", feature_columns=["income", "debt"], missing="impute")


def test_unknown_strategy_is_refused_and_names_are_forgiving():
    assert MissingValues.of("Pass-Through") == MissingValues(PASS_THROUGH)
    assert MissingValues.of(None) is None
    with pytest.raises(DataError, match="Unknown missing-value handling 'guess'"):
        MissingValues.of("guess")


def test_handling_missing_values_never_modifies_the_callers_frame():
    data, _ = _csv_with_gaps()
    frame = _read(data)
    before = frame.copy()
    for choice in (DROP, IMPUTE, PASS_THROUGH):
        prepare_dataset(frame, "default", "1", feature_columns=["income", "debt"], missing=choice)
    pd.testing.assert_frame_equal(frame, before)
