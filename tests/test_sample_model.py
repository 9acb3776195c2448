"""The committed sample model reproduces, through core, the numbers the README states."""
from __future__ import annotations

import re

from conftest import ROOT, SAMPLE_DATA, SAMPLE_MODEL

from core.data import read_table
from core.hashing import sha256_hex
from core.metrics import auc, gini, ks
from core.model import load_model
from core.workspace import EVAL_HOLDOUT, bind


def _readme_value(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^\| {name} \| ([0-9.]+) \|$", text, flags=re.M)
    assert match, f"README has no '| {name} | … |' row"
    return match.group(1)


def test_sample_model_reproduces_readme_test_metrics_to_four_decimals():
    data = SAMPLE_DATA.read_bytes()
    model = load_model(SAMPLE_MODEL.read_bytes(), SAMPLE_MODEL.name)
    ws = bind(model, read_table(data, SAMPLE_DATA.name).frame, model.schema.target, model.schema.bad_value,
              data_sha256=sha256_hex(data))
    assert ws.eval_mode == EVAL_HOLDOUT and len(ws.eval_idx) == 200  # the model's own held-out split
    assert f"{auc(ws.y_eval, ws.original_scores):.4f}" == _readme_value("AUC")
    assert f"{gini(ws.y_eval, ws.original_scores):.4f}" == _readme_value("Gini")
    assert f"{ks(ws.y_eval, ws.original_scores):.4f}" == _readme_value("KS")


def test_readme_states_the_sample_parameter_count():
    model = load_model(SAMPLE_MODEL.read_bytes(), SAMPLE_MODEL.name)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{model.n_parameters:,} parameters" in text
