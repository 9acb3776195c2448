"""A representative subset of the hostile-input catalogue through the real Data & model page.

Each bad file must produce an ``st.error`` naming the file and the problem, no exception, no
code run from the file, and the session must keep working on the files it had before.
"""
from __future__ import annotations

import io

import pandas as pd
import pytest
import torch
from apptest_support import assert_clean, go, metric, open_app, upload
from conftest import SAMPLE_DATA
from test_hostile_inputs import CANARY, HOSTILE_UPLOADS
from torch import nn

pytestmark = pytest.mark.app

SUBSET = (
    "empty model file", "torch.save(model) pickle", "zip pickle that creates a file",
    "TorchScript whose forward writes files", "truncated TorchScript", "scripted nn.Identity",
    "empty CSV", "unclosed quote", "Parquet with a list column", "old .xls",
)
CASES = [c for c in HOSTILE_UPLOADS if c.name in SUBSET]


def test_subset_is_complete():
    assert len(CASES) == len(SUBSET)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_upload_shows_a_clear_error_and_keeps_the_working_files(case):
    CANARY.unlink(missing_ok=True)
    at = open_app("data_model")
    key = "model_upload" if case.target == "model" else "data_upload"
    upload(at, key, case.filename, case.build())
    assert_clean(at)
    errors = [e.value for e in at.error]
    assert any(case.filename in e and case.phrase in e for e in errors), errors
    assert not CANARY.exists(), "a file from the upload ran code"
    go(at, "overview")
    assert metric(at, "Test AUC") == "0.7715"  # still the sample, untouched


def _model_bytes(n_inputs: int) -> bytes:
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Linear(n_inputs, 4), nn.ReLU(), nn.Linear(4, 1)).eval()), buf)
    return buf.getvalue()


def _sample_frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_DATA)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


MISMATCHES = [
    ("model with 12 inputs on 7 numeric columns", "model_upload", "twelve.pt", lambda: _model_bytes(12),
     "expects 12 inputs"),
    ("target with one class", "data_upload", "one_class.csv",
     lambda: _csv(_sample_frame().assign(creditability="good")), "one outcome"),
    ("category the schema never saw", "data_upload", "new_category.csv",
     lambda: _csv(_sample_frame().assign(housing=["castle"] + list(_sample_frame()["housing"][1:]))), "castle"),
    ("text where numbers are expected", "data_upload", "text_numbers.csv",
     lambda: _csv(_sample_frame().assign(credit_amount=["n/a"] + list(_sample_frame()["credit_amount"][1:]))),
     "credit_amount"),
]


@pytest.mark.parametrize("name,key,filename,build,phrase", MISMATCHES, ids=[m[0] for m in MISMATCHES])
def test_files_that_load_but_do_not_fit_together_are_explained_on_every_page(name, key, filename, build, phrase):
    at = open_app("data_model")
    upload(at, key, filename, build())
    assert_clean(at)
    assert any(phrase in e.value for e in at.error), [e.value for e in at.error]
    for page in ("prune", "decisions", "governance", "report"):
        go(at, page)
        assert_clean(at)
        assert any("cannot be used together" in e.value for e in at.error), page
