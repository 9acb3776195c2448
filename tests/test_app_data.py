"""The Data & model page with the user's own files: missing values as a choice, the target guess, the input
list after a target change, evaluation rows and their warning — through the real page scripts (AppTest)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from apptest_support import assert_clean, go, metric, open_app, upload
from builders import TARGET, csv_bytes, model_bytes, model_columns, synthetic_book, trained_mlp
from conftest import SAMPLE_DATA
from test_binding import dirty_book_csv, german_reencoded
from torch import nn

pytestmark = pytest.mark.app

PAGES = ("overview", "prune", "tradeoffs", "explain", "decisions", "governance", "report")


def _widget(items, label: str):
    found = [w for w in items if w.label.startswith(label)]
    assert found, f"no widget '{label}' among {[w.label for w in items]}"
    return found[0]


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _untrained(n_inputs: int, seed: int = 0) -> bytes:
    torch.manual_seed(seed)
    return model_bytes(torch.jit.script(nn.Sequential(nn.Linear(n_inputs, 8), nn.ReLU(), nn.Linear(8, 1)).eval()))


def _sample_with_gaps() -> tuple[bytes, int]:
    """The sample book with empty credit amounts and an infinite duration: rows the sample model cannot score as they are."""
    frame = pd.read_csv(SAMPLE_DATA).astype({"credit_amount": float, "duration_in_month": float})
    frame.loc[[4, 17, 250], "credit_amount"] = np.nan
    frame.loc[[17, 600], "duration_in_month"] = np.inf
    return frame.to_csv(index=False).encode(), 4  # rows 4, 17, 250, 600


@pytest.mark.slow
def test_missing_values_offer_three_choices_and_drop_makes_every_page_work_and_the_report_says_so():
    data, affected = _sample_with_gaps()
    at = open_app("data_model")
    upload(at, "data_upload", "gaps.csv", data, "text/csv")
    assert_clean(at)
    assert any("4 row(s) have missing or infinite inputs" in e for e in _errors(at)), _errors(at)
    choice = _widget(at.radio, "How to handle them")
    assert choice.options[0].startswith("Drop the affected rows — Leaves out 4 row(s)") and len(choice.options) == 3
    assert any("credit_amount" in str(d.value.get("variable", "")) for d in at.dataframe if "variable" in d.value.columns)
    go(at, "overview")  # nothing chosen yet: every page says what is wrong and where to fix it
    assert any("cannot be used together" in e for e in _errors(at))
    go(at, "data_model")
    _widget(at.radio, "How to handle them").set_value("drop").run()
    assert_clean(at)
    assert not _errors(at), _errors(at)
    assert metric(at, "Rows") == f"{1000 - affected:,}"
    assert any("Chosen: drop them — 4 row(s) left out" in i.value for i in at.info)
    for page in PAGES:
        go(at, page)
        assert_clean(at)
        assert not _errors(at), (page, _errors(at))
    at.button(key="build_report").click().run()
    assert_clean(at)
    bundle = next(iter(at.session_state["report_bundles"].values()))
    assert "Chosen: drop them — 4 row(s) left out" in bundle.files["report.html"].decode("utf-8")
    record = json.loads(bundle.files["manifest.json"])["settings"]["missing_values"]
    assert record["strategy"] == "drop" and record["rows_dropped"] == affected and record["dropped_rows"] == [4, 17, 250, 600]


def test_the_target_guess_takes_the_named_flag_not_the_last_dummy():
    frame = german_reencoded()
    at = open_app("data_model")
    upload(at, "model_upload", "reencoded.pt", _untrained(60))
    upload(at, "data_upload", "german_reencoded.csv", csv_bytes(frame), "text/csv")
    assert_clean(at)
    assert _widget(at.selectbox, "Target column").value == "default_flag"
    assert any("Proposed because its name says outcome" in c.value for c in at.caption)
    assert not _errors(at), _errors(at)
    assert metric(at, "Bad rate") == "30.0%"  # not the 96 % of the scaled dummy foreign_worker_yes


def test_changing_the_target_rebuilds_the_input_list():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x1": rng.normal(size=300), "x2": rng.normal(size=300), "default": rng.integers(0, 2, 300),
                          "x3": rng.normal(size=300), "bad_alt": rng.integers(0, 2, 300)})
    at = open_app("data_model")
    upload(at, "model_upload", "four.pt", _untrained(4))
    upload(at, "data_upload", "two_flags.csv", csv_bytes(frame), "text/csv")
    assert _widget(at.selectbox, "Target column").value == "default"
    assert _widget(at.multiselect, "Dataset columns fed").value == ["x1", "x2", "x3", "bad_alt"]
    _widget(at.selectbox, "Target column").set_value("bad_alt").run()
    assert_clean(at)
    assert _widget(at.multiselect, "Dataset columns fed").value == ["x1", "x2", "default", "x3"]
    assert not _errors(at), _errors(at)


@pytest.mark.slow
def test_all_rows_carry_the_evaluation_warning_on_the_data_page_and_every_analysis_page():
    book = synthetic_book(300, seed=2)
    at = open_app("data_model")
    upload(at, "model_upload", "m.pt", model_bytes(trained_mlp(book, epochs=10)))
    upload(at, "data_upload", "small_book.csv", csv_bytes(book), "text/csv")
    _widget(at.multiselect, "Dataset columns fed").set_value(model_columns()).run()
    assert_clean(at)
    assert _widget(at.selectbox, "Target column").value == TARGET  # yes/no, named like an outcome
    assert _widget(at.radio, "Which rows evaluate").value == "all"  # 300 rows: too few for a default hold-out
    assert any("Evaluated on all 300 rows" in w.value and "optimistic" in w.value for w in at.warning)
    for page in ("overview", "decisions"):
        go(at, page)
        assert_clean(at)
        assert any("optimistic" in w.value for w in at.warning), page
    go(at, "data_model")
    _widget(at.radio, "Which rows evaluate").set_value("holdout").run()
    assert_clean(at)
    assert metric(at, "Evaluation rows") == "60" and not any("optimistic" in w.value for w in at.warning)


def test_choosing_all_rows_on_the_sample_warns_beside_its_metrics():
    at = open_app("data_model")
    _widget(at.radio, "Which rows evaluate").set_value("all").run()
    assert_clean(at)
    assert any("model's own training file" in w.value for w in at.warning)
    go(at, "overview")
    assert metric(at, "AUC") and any("optimistic" in w.value for w in at.warning)


def test_a_split_column_is_guessed_with_its_evaluation_value():
    book = synthetic_book(400, seed=3)
    book["sample"] = np.where(np.arange(400) % 4 == 0, "test", "train")
    at = open_app("data_model")
    upload(at, "model_upload", "m.pt", model_bytes(trained_mlp(book, epochs=10)))
    upload(at, "data_upload", "split.csv", csv_bytes(book), "text/csv")
    _widget(at.multiselect, "Dataset columns fed").set_value(model_columns()).run()
    _widget(at.radio, "Which rows evaluate").set_value("split_column").run()
    assert_clean(at)
    assert _widget(at.selectbox, "Split column").value == "sample"
    assert _widget(at.selectbox, "Value that marks").value == "test"
    assert metric(at, "Evaluation rows") == "100" and not _errors(at)
    assert "sample" not in _widget(at.multiselect, "Dataset columns fed").options


def test_a_separate_evaluation_file_is_uploaded_beside_the_choice():
    book = synthetic_book(400, seed=5)
    at = open_app("data_model")
    upload(at, "model_upload", "m.pt", model_bytes(trained_mlp(book, epochs=10)))
    upload(at, "data_upload", "train.csv", csv_bytes(book), "text/csv")
    _widget(at.multiselect, "Dataset columns fed").set_value(model_columns()).run()
    _widget(at.radio, "Which rows evaluate").set_value("separate_file").run()
    assert any("separate evaluation file was chosen but none was given" in e for e in _errors(at))
    upload(at, "eval_upload", "later.csv", csv_bytes(synthetic_book(150, seed=6)), "text/csv")
    assert_clean(at)
    assert not _errors(at), _errors(at)
    assert metric(at, "Evaluation rows") == "150"
    assert any("Evaluation file in use: `later.csv`" in c.value for c in at.caption)


def test_a_file_without_an_outcome_column_asks_for_the_target_and_pages_wait_for_it():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x1": rng.normal(size=100), "x2": rng.normal(size=100), "result_code": rng.integers(0, 4, 100)})
    at = open_app("data_model")
    upload(at, "model_upload", "two.pt", _untrained(2))
    upload(at, "data_upload", "no_outcome.csv", csv_bytes(frame), "text/csv")
    assert_clean(at)
    assert _widget(at.selectbox, "Target column").value is None
    assert any("Pick the target column" in w.value for w in at.warning)
    assert not _errors(at) and not at.metric  # nothing computed on a guess
    go(at, "overview")
    assert_clean(at)
    assert any("Pick the target" in e and "Data & model page" in e for e in _errors(at))


def test_a_target_with_three_outcomes_is_used_only_as_bad_vs_rest():
    book = synthetic_book(400, seed=8)
    book.loc[book.index % 9 == 0, TARGET] = "written off"
    at = open_app("data_model")
    upload(at, "model_upload", "m.pt", model_bytes(trained_mlp(book, epochs=5)))
    upload(at, "data_upload", "three.csv", csv_bytes(book), "text/csv")
    assert _widget(at.selectbox, "Target column").value is None  # three outcomes: never guessed
    _widget(at.selectbox, "Target column").set_value(TARGET).run()
    _widget(at.multiselect, "Dataset columns fed").set_value(model_columns()).run()
    assert any("has 3 outcomes" in e for e in _errors(at))
    assert not at.metric
    _widget(at.selectbox, "Value meaning bad").set_value("yes").run()
    _widget(at.checkbox, "Count every other value as good").check().run()
    assert_clean(at)
    assert not _errors(at), _errors(at)
    assert any("every other value is good" in m.value for m in at.markdown)


def test_a_dirty_export_shows_its_header_fixes_identifiers_text_columns_and_profile():
    at = open_app("data_model")
    upload(at, "model_upload", "two.pt", _untrained(2))
    upload(at, "data_upload", "dirty.csv", dirty_book_csv(), "text/csv")
    assert_clean(at)
    assert _widget(at.selectbox, "Target column").value == "default"  # found despite BOM and padding
    text = " ".join(m.value for m in at.markdown)
    assert "'debt' (column 5) → 'debt.1'" in text and "surrounding spaces" in text
    assert any("'region'" in i.value and "no feature schema" in i.value for i in at.info)
    assert any("'applicant_id'" in c.value and "identifier" in c.value for c in at.caption)
    profile = [d.value for d in at.dataframe if "missing share" in d.value.columns]
    assert profile and set(profile[0]["column"]) == {"applicant_id", "income", "debt", "region", "debt.1", "default"}
    _widget(at.multiselect, "Dataset columns fed").set_value(["income", "debt"]).run()
    assert any("1 row(s)" in e or "missing" in e for e in _errors(at))  # the target is empty in one row: a choice
    _widget(at.radio, "How to handle them").set_value("pass_through").run()  # a plain MLP returns NaN on NaN: refused
    assert_clean(at)
    assert any("does not handle missing values itself" in e for e in _errors(at)), _errors(at)
    _widget(at.radio, "How to handle them").set_value("impute").run()  # the choice stays beside the refusal
    assert_clean(at)
    assert not _errors(at), _errors(at)
    assert metric(at, "Rows") == "599"
