"""How numbers and terms are printed: undefined numbers as words (tables, CSVs, sentences), names keep their capitals,
and one glossary behind every tooltip and the report's Glossary section."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from core.errors import SpecError
from core.formatting import csv_bytes, display_na, first_upper, fmt_points, shown, undefined
from core.glossary import GLOSSARY, glossary_frame, help_text, term


def test_an_undefined_metric_is_its_reason_in_words():
    assert shown("approved_bad_rate", float("nan")) == "undefined: nobody approved"
    assert shown("auc", None) == "undefined: only one outcome among these applicants"
    assert shown("something_else", float("inf")) == "undefined"
    assert shown("auc", 0.71234) == "0.7123"
    assert undefined("air") == "undefined: nobody approved"
    assert fmt_points(0.0123) == "+1.2 pts" and fmt_points(float("nan")) == "n/a"


def test_table_cells_that_are_missing_or_infinite_become_words_and_the_rest_keep_their_numbers():
    frame = pd.DataFrame({"width": [61, None, 32], "air": [0.91, np.nan, 1.0], "text": ["a", None, "c"], "clean": [1.5, 2.5, 3.5]})
    shown_frame = display_na(frame, words={"air": "undefined: nobody approved"})
    assert shown_frame["width"].tolist() == ["61", "n/a", "32"]  # whole numbers stay whole after NaN made them floats
    assert shown_frame["air"].tolist() == ["0.9100", "undefined: nobody approved", "1.0000"]
    assert shown_frame["text"].tolist() == ["a", "n/a", "c"]
    assert shown_frame["clean"].dtype == np.float64  # untouched: the page's number format still applies
    assert display_na(frame, formats={"air": lambda v: f"{v:.1f}"})["air"].tolist() == ["0.9", "n/a", "1.0"]


def test_csv_downloads_say_n_a_and_open_ends_never_nan_inf_or_an_empty_cell():
    frame = pd.DataFrame({"lower": [-np.inf, 0.2], "upper": [0.2, np.inf], "bad_rate": [np.nan, 0.3], "note": [None, "x"]})
    text = csv_bytes(frame).decode("utf-8")
    assert not re.search(r"\bnan\b|\binf\b|\bNone\b", text, re.IGNORECASE)
    assert text.splitlines() == ["lower,upper,bad_rate,note", "−∞,0.2,n/a,n/a", "0.2,+∞,0.3,x"]


@pytest.mark.parametrize("text, expected", [("scoring 'RiskPrune' rows", "Scoring 'RiskPrune' rows"),
                                            ("ΔAUC moved", "ΔAUC moved"), ("", "")])
def test_sentence_case_keeps_every_other_capital(text, expected):
    assert first_upper(text) == expected


def test_every_statistic_the_pages_explain_has_one_plain_line_and_its_reference():
    for key in ("auc", "gini", "ks", "psi", "brier", "ece", "spearman", "kendall", "top_k_overlap", "flips", "air",
                "expected_loss", "logit", "masked", "compacted", "shap", "deepshap", "delong", "bootstrap_ci",
                "stratified_sample", "fine_tuning", "score_alignment"):
        entry = term(key)
        assert entry.plain.endswith(".") and "\n" not in entry.plain, key
    for key in ("auc", "gini", "ks", "psi", "brier", "ece", "spearman", "kendall", "air", "expected_loss", "delong",
                "bootstrap_ci", "shap"):
        assert term(key).reference and term(key).reference in help_text(key), key
    assert "0.10–0.25 monitor" in help_text("psi")  # the PSI bands come from their one owner


def test_the_glossary_table_lists_every_term_once_and_an_unknown_term_is_refused():
    frame = glossary_frame()
    assert list(frame.columns) == ["Term", "Meaning", "Reference"] and len(frame) == len(GLOSSARY)
    assert frame["Term"].is_unique and not frame.isna().any().any()
    with pytest.raises(SpecError, match="no term 'aucc'"):
        help_text("aucc")
