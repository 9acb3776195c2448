"""Binding a model to a dirty book: the target guess, explicit evaluation rows, and missing-value choices
that reach the flips table, the report and the manifest.

Every file here is built by the test (as bytes where an upload would be bytes) and every expected
number is computed independently with numpy/pandas on the same rows, never copied from the code.
"""
from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd
import pytest
import torch
from builders import TARGET, model_columns, synthetic_book, trained_mlp
from conftest import ROOT, SAMPLE_DATA
from torch import nn

from core.data import MAX_DATA_BYTES, data_profile, identifier_columns, read_table, text_columns_note
from core.data.guess import guess_eval_value, guess_split_column, guess_target, name_score, value_score
from core.errors import DataError
from core.hashing import sha256_hex
from core.model import load_model, model_to_bytes, predict_pbad
from core.prune import PruneSpec
from core.report.bundle import manifest_for
from core.report.content import build_report_content
from core.workspace import bind, compare_workspace, prepare_oot, prune_workspace
from core.workspace.binding import (
    AUTO_HOLDOUT_PER_CLASS,
    AUTO_HOLDOUT_ROWS,
    EVAL_ALL,
    EVAL_HOLDOUT,
    EVAL_SEPARATE_FILE,
    EVAL_SPLIT_COLUMN,
    EvaluationRows,
    EvaluationRowsError,
)

# --------------------------------------------------------------------------- files the tests build

DIRTY_ROWS = 600
NAN_INCOME, INF_DEBT, NO_TARGET = (3, 10), (7, 99), 5  # file rows (0-based data rows)
DIRTY_AFFECTED = sorted([*NAN_INCOME, *INF_DEBT])


def dirty_book(seed: int = 0) -> pd.DataFrame:
    """A loan book as an export leaves it: clean values; ``dirty_book_csv`` writes the dirt into the file."""
    rng = np.random.default_rng(seed)
    income = rng.normal(3000, 800, DIRTY_ROWS).round(2)
    debt = rng.normal(1.0, 0.3, DIRTY_ROWS).round(3)
    p = 1 / (1 + np.exp(-(-1.0 + 2.0 * (debt - 1.0) / 0.3 - 0.8 * (income - 3000) / 800)))
    return pd.DataFrame({
        "applicant_id": np.arange(70_000, 70_000 + DIRTY_ROWS),
        "income": income, "debt": debt,
        "region": rng.choice(["north", "south", "east"], DIRTY_ROWS),
        "debt_2": (debt * 2).round(3),
        "default": np.where(rng.random(DIRTY_ROWS) < p, "Y", "N"),
    })


def dirty_book_csv(seed: int = 0) -> bytes:
    """BOM, padded and repeated headers, an ID column, a text column, a Y/N target; NaN and ±inf inputs
    and one row without an outcome."""
    frame = dirty_book(seed).astype(object)
    frame.loc[list(NAN_INCOME), "income"] = ""
    frame.loc[INF_DEBT[0], "debt"] = "inf"
    frame.loc[INF_DEBT[1], "debt"] = "-inf"
    frame.loc[NO_TARGET, "default"] = ""
    body = frame.to_csv(index=False).split("\n", 1)[1]
    header = " applicant_id ,income,debt,region,debt, default \n"  # padded names; 'debt' twice (the 2nd is debt_2)
    return b"\xef\xbb\xbf" + (header + body).encode("utf-8")


class HandlesNaN(nn.Module):
    """A 2-input model that replaces NaN inputs by 0 itself (and shifts its logit, so it is no plain Linear chain)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.lin = nn.Linear(2, 1)
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor([[-0.002, 4.0]]))
            self.lin.bias.fill_(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(torch.nan_to_num(x, nan=0.0)) + 0.5


def nan_model():
    return load_model(model_to_bytes(torch.jit.script(HandlesNaN().eval())), "handles_nan.pt")


def german_reencoded() -> pd.DataFrame:
    """German Credit one-hot encoded and standardised for a network, ``default_flag`` 4th of 61 columns,
    the standardised dummy ``foreign_worker_yes`` last (the issue's example)."""
    raw = pd.read_csv(SAMPLE_DATA)
    flag = (raw.pop("creditability") == "bad").astype(int)
    dummies = pd.get_dummies(raw, dtype=float).drop(columns=["foreign_worker_no"])
    scaled = (dummies - dummies.mean()) / dummies.std()
    scaled.insert(3, "default_flag", flag)
    return scaled


# --------------------------------------------------------------------------- the target guess


def test_target_guess_picks_the_named_flag_not_the_last_standardised_dummy():
    frame = german_reencoded()
    assert frame.shape[1] == 61 and frame.columns[3] == "default_flag" and frame.columns[-1] == "foreign_worker_yes"
    assert frame["foreign_worker_yes"].nunique() == 2  # the trap: two distinct values after scaling
    guess = guess_target(frame)
    assert guess.column == "default_flag"
    assert "two outcomes (0, 1)" in guess.reason
    assert "foreign_worker_yes" not in guess.candidates


def test_target_guess_does_not_take_a_one_hot_dummy_when_the_file_has_no_outcome_column():
    raw = pd.read_csv(SAMPLE_DATA).drop(columns=["creditability"])
    dummies = pd.get_dummies(raw, dtype=int)  # 0/1 columns such as status_of_existing_checking_account_< 0 DM
    guess = guess_target(dummies)
    assert guess.column is None and "several columns look like a label" in guess.reason
    lending = dummies.assign(loan_status=np.where(np.arange(len(dummies)) % 5 == 0, "Charged Off", "Fully Paid"))
    assert guess_target(lending).column == "loan_status"


def test_target_guess_never_picks_a_column_with_more_than_two_values_and_asks_instead():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"income": rng.normal(size=50), "default_status": rng.choice(["current", "late", "default"], 50),
                          "score": rng.normal(size=50)})
    guess = guess_target(frame)
    assert guess.column is None and not guess.found
    assert "no column" in guess.reason


def test_target_guess_without_an_outcome_name_takes_the_only_label_like_column():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.normal(size=40), "paid_late": rng.choice(["Y", "N"], 40), "dummy": rng.normal(size=40).round()})
    frame["dummy"] = np.where(frame["dummy"] > 0, 0.7, -1.4)  # two values that are no label
    assert guess_target(frame).column == "paid_late"
    several = frame.assign(other=rng.choice(["Y", "N"], 40))
    guess = guess_target(several)
    assert guess.column is None and "several columns look like a label" in guess.reason
    assert set(guess.candidates) == {"paid_late", "other"}


def test_target_guess_prefers_the_target_the_model_schema_records(sample_frame):
    assert guess_target(sample_frame, preferred="creditability").column == "creditability"
    assert guess_target(sample_frame.rename(columns={"creditability": "result_flag"}), preferred="creditability").column == "result_flag"


@pytest.mark.parametrize("name, score", [
    ("default_flag", 3), ("y", 3), ("isBad", 3), ("TARGET", 3), ("default payment next month", 2), ("creditability", 3),
    ("loan_status", 1), ("risk_class", 1), ("personal_status_single", 0), ("status_of_existing_checking_account_< 0 DM", 0),
    ("foreign_worker_yes", 0), ("is_married", 0), ("income", 0),
])
def test_a_name_says_outcome_by_its_words(name, score):
    assert name_score(name) == score


@pytest.mark.parametrize("values, score", [
    (("bad", "good"), 3), (("N", "Y"), 2), (("False", "True"), 2), (("0", "1"), 1), (("-0.196", "5.10"), 0), (("1", "2"), 0),
])
def test_two_values_look_like_a_label(values, score):
    assert value_score(values) == score


def test_split_column_and_evaluation_value_are_guessed_from_names_and_values():
    frame = pd.DataFrame({"x": range(20), "Sample": ["train"] * 15 + ["test"] * 5, "default": [0, 1] * 10})
    assert guess_split_column(frame, exclude=["default"]) == "Sample"
    assert guess_split_column(frame.rename(columns={"Sample": "origin"}), exclude=["default"]) == "origin"  # 'test' among its values
    assert guess_eval_value(["train", "OOT"]) == "OOT" and guess_eval_value(["a", "b"]) is None


# --------------------------------------------------------------------------- evaluation rows


@pytest.fixture(scope="module")
def book():
    return synthetic_book(900, seed=11)


@pytest.fixture(scope="module")
def plain_model(book):
    return load_model(model_to_bytes(trained_mlp(book, epochs=30)), "plain.pt")


def _bind(model, frame, **kw):
    return bind(model, frame, TARGET, "yes", feature_columns=model_columns(), **kw)


def test_split_column_rows_evaluate_and_the_other_rows_fine_tune(plain_model, book):
    sample = np.where(np.arange(len(book)) % 4 == 0, "test", "train")
    frame = book.assign(sample=sample)
    ws = _bind(plain_model, frame, eval_mode=EvaluationRows(EVAL_SPLIT_COLUMN, column="sample"))
    test_rows = np.flatnonzero(sample == "test")
    np.testing.assert_array_equal(ws.eval_row_ids, test_rows)
    np.testing.assert_array_equal(ws.data.row_ids[ws.train_idx], np.flatnonzero(sample == "train"))
    assert ws.rows.value == "test" and ws.eval_mode == EVAL_SPLIT_COLUMN and ws.can_fine_tune
    assert ws.evaluation_warning is None and "sample = 'test'" in ws.split_note
    X = frame[model_columns()].to_numpy(np.float32)[test_rows]
    np.testing.assert_allclose(ws.original_scores, predict_pbad(plain_model.module, X, ws.output.kind))
    holdout = _bind(plain_model, frame, eval_mode="holdout")
    assert holdout.key != ws.key


def test_a_numeric_split_column_is_never_a_default_input():
    frame = synthetic_book(300, seed=3)[[*model_columns(), TARGET]].assign(is_test=np.arange(300) % 5 == 0)
    frame["is_test"] = frame["is_test"].astype(int)  # 0/1: numeric, would be a 6th input of a 5-input model
    model = load_model(model_to_bytes(trained_mlp(frame, epochs=5)), "m.pt")
    with pytest.raises(DataError, match="expects 5 inputs but the dataset provides 6"):
        bind(model, frame, TARGET, "yes", eval_mode="all")
    ws = bind(model, frame, TARGET, "yes", eval_mode=EvaluationRows(EVAL_SPLIT_COLUMN, column="is_test", value="1"))
    assert "is_test" not in ws.data.input_names and len(ws.eval_idx) == 60


def test_split_column_without_a_recognisable_value_lists_its_values(plain_model, book):
    frame = book.assign(batch=np.where(np.arange(len(book)) < 600, "A", "B"))
    with pytest.raises(EvaluationRowsError, match=r"Which value of the split column 'batch'.*'A' \(600\), 'B' \(300\)"):
        _bind(plain_model, frame, eval_mode=EvaluationRows(EVAL_SPLIT_COLUMN, column="batch"))
    with pytest.raises(EvaluationRowsError, match="has no value 'C'"):
        _bind(plain_model, frame, eval_mode=EvaluationRows(EVAL_SPLIT_COLUMN, column="batch", value="C"))
    with pytest.raises(DataError, match="no split column 'bacth'") as info:
        _bind(plain_model, frame, eval_mode=EvaluationRows(EVAL_SPLIT_COLUMN, column="bacth"))
    assert "Closest: batch" in info.value.hint
    ws = _bind(plain_model, frame, eval_mode=EvaluationRows(EVAL_SPLIT_COLUMN, column=" batch ", value="b"))  # forgiving
    assert len(ws.eval_idx) == 300 and ws.rows.value == "B"


def test_a_separate_evaluation_file_evaluates_its_rows_and_its_row_numbers_reach_the_flips(plain_model, book):
    later = synthetic_book(400, seed=99)
    later.loc[[2, 50], "debt_ratio"] = np.nan  # two evaluation rows dropped: flips must still name file rows
    rows = EvaluationRows(EVAL_SEPARATE_FILE, file_sha256="abc", file_name="later.csv")
    ws = _bind(plain_model, book, eval_mode=rows, eval_data=later, missing="drop")
    kept = np.setdiff1d(np.arange(400), [2, 50])
    np.testing.assert_array_equal(ws.eval_row_ids, kept)
    assert len(ws.train_idx) == len(book) and ws.evaluation_warning is None
    X = later[model_columns()].to_numpy(np.float32)[kept]
    np.testing.assert_allclose(ws.original_scores, predict_pbad(plain_model.module, X, ws.output.kind))
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_global", 0.7))
    flipped = compare_workspace(ws, pruned).flips.rows
    assert len(flipped) > 0
    own = predict_pbad(plain_model.module, later[model_columns()].to_numpy(np.float32)[flipped["row"].to_numpy()], ws.output.kind)
    np.testing.assert_allclose(flipped["pd_original"], own, rtol=1e-6)  # the row number is the evaluation file's
    with pytest.raises(EvaluationRowsError, match="does not fit the data file.*'late_payments'"):
        _bind(plain_model, book, eval_data=later.drop(columns=["late_payments"]))


@pytest.mark.parametrize("n, n_bad, mode", [
    (AUTO_HOLDOUT_ROWS, AUTO_HOLDOUT_PER_CLASS, EVAL_HOLDOUT),
    (AUTO_HOLDOUT_ROWS - 1, 150, EVAL_ALL),
    (600, AUTO_HOLDOUT_PER_CLASS - 1, EVAL_ALL),
])
def test_default_rows_are_a_seeded_holdout_only_with_enough_rows_of_each_outcome(plain_model, book, n, n_bad, mode):
    bad = book[book[TARGET] == "yes"].head(n_bad)
    good = book[book[TARGET] == "no"].head(n - n_bad)
    assert len(bad) == n_bad and len(good) == n - n_bad
    ws = _bind(plain_model, pd.concat([bad, good]).sort_index())
    assert ws.eval_mode == mode and "Chosen by default" in ws.split_note
    if mode == EVAL_ALL:
        assert "AUC, Gini and KS are optimistic" in ws.evaluation_warning
        assert not ws.can_fine_tune
    else:
        assert ws.evaluation_warning is None and len(ws.eval_idx) == round(0.2 * n_bad) + round(0.2 * (n - n_bad))


def test_the_model_training_file_uses_its_recorded_split_and_all_rows_there_warn(sample_model, sample_frame):
    sha = sha256_hex(SAMPLE_DATA.read_bytes())
    own = bind(sample_model, sample_frame, "creditability", "bad", data_sha256=sha)
    assert own.eval_mode == EVAL_HOLDOUT and len(own.eval_idx) == 200 and own.evaluation_warning is None
    everything = bind(sample_model, sample_frame, "creditability", "bad", data_sha256=sha, eval_mode="all")
    assert "model's own training file" in everything.evaluation_warning
    reseeded = bind(sample_model, sample_frame, "creditability", "bad", data_sha256=sha, eval_mode=EvaluationRows(EVAL_HOLDOUT, seed=7))
    assert "not the split the model was trained with (seed 42)" in reseeded.evaluation_warning
    assert "own training split" not in reseeded.split_note
    assert len({own.key, everything.key, bind(sample_model, sample_frame, "creditability", "bad", eval_mode="holdout",
                                             split_seed=7).key}) == 3


def test_evaluation_rows_are_typed_and_refuse_what_cannot_work(plain_model, book):
    with pytest.raises(EvaluationRowsError, match="need the column"):
        EvaluationRows.of("split-column")
    with pytest.raises(EvaluationRowsError, match="Unknown evaluation mode 'random'"):
        EvaluationRows("random")
    with pytest.raises(EvaluationRowsError, match="none was given"):
        _bind(plain_model, book, eval_mode=EVAL_SEPARATE_FILE)
    with pytest.raises(EvaluationRowsError, match="evaluation rows are 'holdout'"):
        _bind(plain_model, book, eval_mode="holdout", eval_data=book)
    one_outcome = book.assign(sample=np.where(book[TARGET] == "yes", "test", "train"))
    with pytest.raises(EvaluationRowsError, match="only one outcome"):
        _bind(plain_model, one_outcome, eval_mode=EvaluationRows(EVAL_SPLIT_COLUMN, column="sample"))


# --------------------------------------------------------------------------- dirty books end to end


def test_a_dirty_export_is_read_with_its_header_fixed_and_its_columns_explained():
    table = read_table(dirty_book_csv(), "dirty.csv")
    frame = table.frame
    assert list(frame.columns) == ["applicant_id", "income", "debt", "region", "debt.1", "default"]
    notes = " ".join(table.notes)
    assert "'debt' (column 5) → 'debt.1'" in notes and "surrounding spaces" in notes
    assert guess_target(frame).column == "default"  # Y/N, named like an outcome, found despite the padding
    assert [f.column for f in identifier_columns(frame, exclude="default")] == ["applicant_id"]
    profile = data_profile(frame, "default")
    assert profile.column("income").n_missing == 2 and profile.column("debt").n_infinite == 2
    assert profile.target.n_missing == 1 and {v.value: v.count for v in profile.target.values}.keys() == {"N", "Y"}
    assert "'region'" in text_columns_note(list(profile.text_columns))


def _reference(frame_clean: pd.DataFrame):
    """What each choice must give, computed from the clean book and the positions of the dirt."""
    y = (frame_clean["default"] == "Y").to_numpy()
    known = np.ones(DIRTY_ROWS, bool)
    known[NO_TARGET] = False
    affected = np.zeros(DIRTY_ROWS, bool)
    affected[DIRTY_AFFECTED] = True
    income = frame_clean["income"].to_numpy(float).copy()
    income[list(NAN_INCOME)] = np.nan
    debt = frame_clean["debt"].to_numpy(float).copy()
    debt[list(INF_DEBT)] = np.nan
    return {
        "bad_rate_affected": y[affected & known].mean(), "bad_rate_complete": y[~affected & known].mean(),
        "income_median": np.nanmedian(income[known]), "debt_median": np.nanmedian(debt[known]),
    }


@pytest.mark.parametrize("choice, rows_used", [("drop", DIRTY_ROWS - 1 - len(DIRTY_AFFECTED)), ("impute", DIRTY_ROWS - 1),
                                               ("pass-through", DIRTY_ROWS - 1)])
def test_each_missing_value_choice_gives_the_documented_rows_and_is_recorded_in_report_and_manifest(choice, rows_used):
    frame = read_table(dirty_book_csv(), "dirty.csv").frame
    ref = _reference(dirty_book())
    model = nan_model()
    ws = bind(model, frame, " default ", "y", feature_columns=["income", "debt"], missing=choice)
    m = ws.missing_values
    assert m.n_rows_used == ws.data.n_rows == rows_used
    assert m.n_rows_affected == len(DIRTY_AFFECTED) and m.n_rows_without_target == 1
    assert m.bad_rate_affected == pytest.approx(ref["bad_rate_affected"]) and m.bad_rate_complete == pytest.approx(ref["bad_rate_complete"])
    assert NO_TARGET not in ws.data.row_ids
    if choice == "drop":
        assert list(m.dropped_rows) == sorted([*DIRTY_AFFECTED, NO_TARGET])
        assert not set(DIRTY_AFFECTED) & set(ws.data.row_ids)
    if choice == "impute":
        fills = {i.column: i.value for i in m.imputations}
        assert fills == pytest.approx({"income": ref["income_median"], "debt": ref["debt_median"]})
        at = {r: i for i, r in enumerate(ws.data.row_ids)}
        assert ws.data.X[at[NAN_INCOME[0]], 0] == pytest.approx(ref["income_median"], rel=1e-6)
    if choice == "pass-through":
        at = {r: i for i, r in enumerate(ws.data.row_ids)}
        assert np.isnan(ws.data.X[[at[r] for r in DIRTY_AFFECTED]]).any(axis=1).all()
        assert np.isfinite(ws.original_scores).all()
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_global", 0.5))
    content = build_report_content(ws, pruned, compare_workspace(ws, pruned), model_name="m", data_name="dirty.csv")
    assert content.settings["missing_values"] == m.to_dict()
    assert any(m.summary in t for t in content.limitations)
    strategy = choice.replace("-", "_")
    assert dict(content.settings_rows())["Missing values"].startswith(choice)
    manifest = json.loads(json.dumps(manifest_for(content, {})))
    assert manifest["settings"]["missing_values"]["strategy"] == strategy
    assert manifest["settings"]["missing_values"]["rows_used"] == rows_used
    assert manifest["settings"]["evaluation"]["choice"]["mode"] == ws.eval_mode


def test_flips_after_a_drop_name_the_file_rows_of_the_flipped_applicants():
    frame = read_table(dirty_book_csv(), "dirty.csv").frame
    model = nan_model()
    ws = bind(model, frame, "default", "Y", feature_columns=["income", "debt"], missing="drop", eval_mode="all")
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_global", 0.5))
    flipped = compare_workspace(ws, pruned).flips.rows
    assert len(flipped) > 0
    rows = flipped["row"].to_numpy()
    assert not set(rows) & {*DIRTY_AFFECTED, NO_TARGET}
    X = frame[["income", "debt"]].to_numpy(np.float32)[rows]  # straight from the file, by the reported row number
    np.testing.assert_allclose(flipped["pd_original"], predict_pbad(model.module, X, ws.output.kind), rtol=1e-6)


def test_adverse_action_reasons_after_a_drop_name_the_same_file_rows_as_the_flips():
    from core.explain.sample import ExplainSettings
    from core.workspace import attributions_for
    from core.workspace.governance import adverse_action_reasons_for

    frame = read_table(dirty_book_csv(), "dirty.csv").frame
    model = nan_model()
    ws = bind(model, frame, "default", "Y", feature_columns=["income", "debt"], missing="drop", eval_mode="all")
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_global", 0.5))
    sample = ExplainSettings(60, 20).draw(len(ws.eval_idx))
    cutoff = float(np.quantile(ws.original_scores, 0.5))
    reasons = adverse_action_reasons_for(ws, pruned.scores, attributions_for(ws, None, sample),
                                         attributions_for(ws, pruned, sample), cutoff).to_frame()
    assert len(reasons) > 0 and not set(reasons["row"]) & {*DIRTY_AFFECTED, NO_TARGET}
    X = frame[["income", "debt"]].to_numpy(np.float32)[reasons["row"].to_numpy()]  # the file's rows by the reported number
    np.testing.assert_allclose(reasons["pd_original"], predict_pbad(model.module, X, ws.output.kind), rtol=1e-6)


def test_out_of_time_rows_get_the_workspace_missing_choice_and_bad_vs_rest(plain_model, book):
    three = book.assign(**{TARGET: np.where(np.arange(len(book)) % 7 == 0, "written off", book[TARGET])})
    ws = bind(plain_model, three, TARGET, "yes", feature_columns=model_columns(), missing="impute", one_vs_rest=True)
    later = synthetic_book(200, seed=5)
    later.loc[[1, 9], "income"] = np.nan
    later.loc[0, TARGET] = "written off"
    oot = prepare_oot(ws, later)
    assert oot.missing.strategy == "impute" and oot.n_rows == 200 and oot.one_vs_rest
    assert oot.y.sum() == (later[TARGET] == "yes").sum()


def test_report_states_the_evaluation_rows_and_the_all_rows_warning(plain_model, book):
    small = book.head(300)
    ws = _bind(plain_model, small)
    assert ws.eval_mode == EVAL_ALL and ws.evaluation_warning
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_global", 0.3))
    content = build_report_content(ws, pruned, compare_workspace(ws, pruned))
    rows = dict(content.settings_rows())
    assert rows["Evaluation warning"] == ws.evaluation_warning and "all rows" in rows["Evaluation rows"]
    assert content.limitations[0].startswith(ws.evaluation_warning)
    assert content.settings["evaluation"]["warning"] == ws.evaluation_warning
    split = _bind(plain_model, book.assign(sample=np.where(np.arange(len(book)) < 700, "train", "test")),
                  eval_mode=EvaluationRows(EVAL_SPLIT_COLUMN, column="sample", value="test"))
    pruned = prune_workspace(split, PruneSpec.make("magnitude_global", 0.3))
    content = build_report_content(split, pruned, compare_workspace(split, pruned))
    assert "Evaluation warning" not in dict(content.settings_rows())
    assert "200 rows whose split column 'sample' is 'test'" in content.limitations[0]
    assert content.settings["evaluation"]["choice"] == {"mode": EVAL_SPLIT_COLUMN, "column": "sample", "value": "test",
                                                         "seed": None, "file_sha256": None, "file_name": None}


def test_the_upload_limit_of_the_server_is_the_engine_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_DATA_BYTES
